// The benchmark's floor (bench/floor.ts): a bare undici client that makes `rounds` of calls, each
// round's calls all at once and the next round after the last answer, to one fake provider, and
// prints the median time of `runs` runs (after two warm-up runs) as JSON. Nothing else runs in
// this process: no relay, no mapping, no answer. Arguments: origin connections runs rounds (a
// comma-separated list of call counts).
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

const [origin = '', connections = '512', runs = '5', rounds = '1'] = process.argv.slice(2);
const agent = new Agent({ connections: Number(connections), keepAliveTimeout: 30_000 });
const counts = rounds.split(',').map(Number);

async function once() {
  const started = performance.now();
  for (const [round, count] of counts.entries()) {
    await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        // The same paths every run: the fake keeps its replies by request (bench/fake-providers.ts).
        const answer = await request(`${origin}/query.php?url=floor-${round}-${index}.example`, { dispatcher: agent });
        const text = await answer.body.text();
        try {
          JSON.parse(text);
        } catch {
          // The fake's body is whatever its fixture is: parsed when it is JSON, as a module would.
        }
      }),
    );
  }
  return performance.now() - started;
}

await once();
await once();
const times = [];
for (let run = 0; run < Number(runs); run += 1) times.push(await once());
times.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ medianMs: times[Math.floor(times.length / 2)] })}\n`);
await agent.close();
