/**
 * Reusable field schemas of the FlantIntegration API. Each carries its own zod check
 * and, where the OpenAPI form cannot say the same, the CEL rule the API server runs,
 * so a bad value is refused by the same rule in a unit test and at admission.
 */
import { z } from 'zod';
import { durationToMillis } from './duration.js';
import { extensionsOf, k8s } from './extensions.js';

export { durationToMillis };

/** Longest URL the API accepts; bounds the cost of the CEL URL rules. */
export const maxURLLength = 2048;

const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsNamePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const secretKeyPattern = /^[-._a-zA-Z0-9]+$/;
/** Go duration of whole units, as Kubernetes and Prometheus write it: `30s`, `5m`, `1h30m`. */
const durationPattern = /^([0-9]+(ms|s|m|h))+$/;

/**
 * A string of `min` to `max` characters, counted as the API server counts them (code points:
 * an emoji is one, where JavaScript's `length` says two), so admission and the controller
 * agree on every value.
 */
export function text(description: string, min: number, max: number): z.ZodEffects<z.ZodString> {
  const chars = (v: string) => [...v].length;
  const schema = z
    .string()
    .refine((v) => chars(v) >= min && chars(v) <= max, {
      message: min > 0 ? `must be ${min} to ${max} characters` : `must be at most ${max} characters`,
    })
    .describe(description);
  return k8s(schema, { ...(min > 0 ? { minLength: min } : {}), maxLength: max });
}

/**
 * The form every URL of the API takes, checked the same way by zod here and by the API server
 * (this pattern, written into the CRD, is also valid RE2 and means the same there): a scheme,
 * a host of ASCII letters, digits, `.`, `-`, `_` (or an IPv6 literal in brackets), an optional
 * port, then anything without whitespace or controls. No `user:password@`: credentials belong
 * in Secrets, and a URL is echoed in conditions and logs.
 */
const urlPattern = /^https?:\/\/([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?([/?#][\x21-\x7e]*)?$/;
const urlMessage = 'must be an http:// or https:// URL: host[:port] and an optional path, with no user:password@ (put credentials in a Secret)';

/** An http or https URL (see {@link urlPattern}), its port at most 65535. */
export function httpURL(description: string): z.ZodEffects<z.ZodString> {
  const inner = z.string().max(maxURLLength).regex(urlPattern, { message: urlMessage }).describe(description);
  const schema = inner.refine(
    (v) => {
      const port = /^[a-z]+:\/\/(?:[^/?#[\]]+|\[[^\]]*\]):([0-9]+)/.exec(v)?.[1];
      return port === undefined || Number(port) <= 65535;
    },
    { message: 'must have a port from 0 to 65535' },
  );
  return k8s(schema, {
    validations: [
      {
        rule: "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",
        message: 'must be an http:// or https:// URL',
      },
      { rule: "!isURL(self) || url(self).getPort() == '' || int(url(self).getPort()) <= 65535", message: 'must have a port from 0 to 65535' },
    ],
  });
}

/** Hosts a plain-HTTP URL may point at, for local stand-ins (an exact list keeps the CEL rule cheap). */
export const loopbackHosts = ['localhost', '127.0.0.1', '::1'] as const;

/** True for an https URL, or an http one to a loopback host: where a credential may be sent. */
export function mayCarryCredential(url: URL): boolean {
  return url.protocol === 'https:' || (loopbackHosts as readonly string[]).includes(url.hostname.replace(/^\[|\]$/g, ''));
}

/**
 * An https URL, or http to a loopback host only: `sent` (the licence, a token) goes to it as a
 * bearer token, so a plain-HTTP URL anywhere else is refused at admission.
 */
export function secureURL(description: string, sent = 'the license'): z.ZodEffects<z.ZodEffects<z.ZodString>> {
  const message = `must be an https:// URL (http:// only to a loopback host): ${sent} is sent to it`;
  const inner = httpURL(description);
  const schema = inner.refine(
    (v) => {
      try {
        return mayCarryCredential(new URL(v));
      } catch {
        return false;
      }
    },
    { message },
  );
  const hosts = loopbackHosts.map((h) => `'${h}'`).join(', ');
  // The CRD reads the rules of the outer node: carry the inner URL rule with this one.
  return k8s(schema, {
    validations: [
      ...(extensionsOf(inner._def)?.validations ?? []),
      { rule: `!isURL(self) || url(self).getScheme() == 'https' || url(self).getHostname() in [${hosts}]`, message },
    ],
  });
}

/** A DNS label: a namespace name, for example. */
export function dnsLabel(description: string): z.ZodString {
  return z.string().min(1).max(63).regex(dnsLabelPattern, { message: 'must be a lowercase RFC 1123 label' }).describe(description);
}

/** A DNS name (RFC 1123 subdomain): an object name or a host name. */
export function dnsName(description: string): z.ZodString {
  return z.string().min(1).max(253).regex(dnsNamePattern, { message: 'must be a lowercase RFC 1123 DNS name' }).describe(description);
}

/** A duration such as `30s`, `10m` or `1h`. */
export function duration(description: string): z.ZodString {
  return z.string().max(32).regex(durationPattern, { message: 'must be a duration such as 30s, 10m or 1h' }).describe(description);
}

/** A duration of at least `minimum` (such as `30s`): a zero or tiny interval would be a hot loop. */
export function durationAtLeast(description: string, minimum: string): z.ZodEffects<z.ZodString> {
  const message = `must be at least ${minimum}`;
  const schema = duration(description).refine((v) => durationToMillis(v) >= durationToMillis(minimum), { message });
  return k8s(schema, { validations: [{ rule: `!self.matches('${durationPattern.source}') || duration(self) >= duration('${minimum}')`, message }] });
}

/** Where a secret value lives: a key of a Secret in a namespace. */
export function secretKeyRef(description: string) {
  return z
    .object({
      namespace: dnsLabel('Namespace of the Secret.'),
      name: dnsName('Name of the Secret.'),
      key: z
        .string()
        .min(1)
        .max(253)
        .regex(secretKeyPattern, { message: 'must be a valid Secret data key' })
        .describe("Key in the Secret's data that holds the value."),
    })
    .strict()
    .describe(description);
}

/** A reference to a whole Secret (its keys are fixed by the field that refers to it). */
export function secretRef(description: string) {
  return z
    .object({
      namespace: dnsLabel('Namespace of the Secret.'),
      name: dnsName('Name of the Secret.'),
    })
    .strict()
    .describe(description);
}

/** A boolean with a default, the shape of every `enabled` switch. */
export function enabledSwitch(what: string) {
  return z.boolean().default(true).describe(`Whether to ${what}.`);
}
