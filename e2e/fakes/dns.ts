/**
 * A local DNS server on 127.0.0.1 (UDP) that answers A queries from a table the tests
 * change at will; unknown names get NXDOMAIN.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** The fake DNS server. */
export class FakeDNS {
  private records = new Map<string, string[]>();
  /** Names answered with SERVFAIL (a broken upstream resolver). */
  private failing = new Set<string>();
  private socket?: dgram.Socket;
  /** Queries answered, for tests. */
  queries = 0;

  /** Answers queries for `name` with SERVFAIL (true) or normally again (false). */
  setServFail(name: string, on: boolean): void {
    if (on) this.failing.add(name.toLowerCase());
    else this.failing.delete(name.toLowerCase());
  }

  /** Sets the A records of `name` (no trailing dot); an empty list answers with no records, undefined with NXDOMAIN. */
  setA(name: string, addresses: string[] | undefined): void {
    if (addresses) this.records.set(name.toLowerCase(), addresses);
    else this.records.delete(name.toLowerCase());
  }

  /** Starts on 127.0.0.1 and returns `127.0.0.1:<port>`. */
  async start(): Promise<string> {
    const socket = dgram.createSocket('udp4');
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      const reply = this.answer(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return this.address;
  }

  get address(): string {
    return `127.0.0.1:${(this.socket?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
  }

  private answer(query: Buffer): Buffer | undefined {
    if (query.length < 12) return undefined;
    this.queries++;
    const { name, end } = readName(query, 12);
    const qtype = query.readUInt16BE(end);
    const question = query.subarray(12, end + 4);
    const known = this.records.get(name.toLowerCase());
    const servFail = this.failing.has(name.toLowerCase());
    const addresses = qtype === 1 && !servFail ? (known ?? []) : [];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | (servFail ? 2 : known === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(1, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(5, 6);
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
      return rr;
    });
    return Buffer.concat([header, question, ...answers]);
  }
}

function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (i < buf.length && buf[i] !== 0) {
    const len = buf[i] ?? 0;
    labels.push(buf.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += len + 1;
  }
  return { name: labels.join('.'), end: i + 1 };
}
