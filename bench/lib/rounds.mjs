/**
 * Rounds that alternate between the servers under test, so that a machine
 * slowing down or speeding up during the run touches every server alike, and
 * the table of each server's median against the last one named.
 */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * @param {string[]} kinds  servers, the last one is the baseline of the ratio
 * @param {number} rounds
 * @param {(kind: string) => Promise<{value: number, line: string}>} measure  one round on a fresh server
 * @param {string} what  the column's name, e.g. "CPU µs per connect"
 */
export async function alternateRounds(kinds, rounds, measure, what) {
  const samples = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const kind of kinds) {
      const { value, line } = await measure(kind);
      samples[kind].push(value);
      console.log(`round ${r + 1} ${kind}: ${line}`);
    }
  }
  const base = median(samples[kinds.at(-1)]);
  console.log(`\n| server | ${what} (median of ${rounds}) | runs | × ${kinds.at(-1)} |\n|---|---:|---|---:|`);
  for (const kind of kinds) {
    const m = median(samples[kind]);
    console.log(`| ${kind} | ${m.toFixed(1)} | ${samples[kind].map((x) => x.toFixed(1)).join(', ')} | ${(m / base).toFixed(2)} |`);
  }
}
