/** Candidates of one answer at most, as written by libdatachannel plus the extra hosts (a bound on what is copied). */
const MAX_CANDIDATES = 64;

/**
 * Writes `hosts` into an SDP answer as extra host candidates: each of the answer's host candidates again, on the same
 * transport and port but at the given address, a little lower in priority. Behind NAT or in a container the relay's
 * own addresses are private; a browser outside reaches it at the forwarded public address instead.
 */
export function withAdditionalHosts(sdp: string, hosts: readonly string[]): string {
  if (hosts.length === 0) return sdp;
  const lines = sdp.split('\r\n');
  const out: string[] = [];
  const seen = new Set<string>();
  let added = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    out.push(line);
    if (!line.startsWith('a=candidate:')) continue;
    // foundation component transport priority address port "typ" type [extensions]
    const fields = line.slice('a=candidate:'.length).split(' ');
    if (fields.length < 8 || fields[6] !== 'typ' || fields[7] !== 'host') continue;
    const [foundation = '', component = '', transport = '', priority = '', address = '', port = '', ...rest] = fields;
    const extra: string[] = [];
    for (const [number, host] of hosts.entries()) {
      const key = `${component} ${transport} ${host} ${port}`;
      if (host === address || seen.has(key) || added >= MAX_CANDIDATES) continue;
      seen.add(key);
      added++;
      const lower = Math.max(0, Number(priority) - 1 - number);
      extra.push(`a=candidate:${foundation.slice(0, 24)}x${number} ${component} ${transport} ${lower} ${host} ${port} ${rest.join(' ')}`);
    }
    out.push(...extra);
  }
  return out.join('\r\n');
}
