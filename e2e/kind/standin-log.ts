/** What the stand-ins program (e2e/kind/standins.ts) and the kind suite share: its ports and its log lines. */

/** One line of the stand-ins' log. */
export type StandinLine =
  | { readonly server: 'madison'; readonly method: string; readonly path: string; readonly host: string; readonly body: string }
  | {
      readonly server: 'connect';
      readonly path: string;
      readonly licence: boolean;
      readonly pricing?: readonly PricingSample[];
      readonly error?: string;
    };

/** A flant_pricing_* sample as the stand-in decoded it. */
export interface PricingSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The ports, unprivileged: the Services map 443 to them. */
export const standinPorts = { madison: 8443, connect: 9443 } as const;
