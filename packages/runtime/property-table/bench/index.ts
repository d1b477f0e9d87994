// PropertyTable benchmarks. Prints one line per figure: `<case>: <ops/s> ops/s`.
// Run with `pnpm --filter @runtime/property-table bench`.
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { ANY, matches, type Pattern, type PropertyPath, PropertyTable } from "../src/index.js";

const DURATION_MS = Number(process.env.BENCH_MS ?? 1_000);

/** Runs `step` in batches for about DURATION_MS after a warm-up; returns operations per second. */
function measure(step: (i: number) => void): number {
  for (let i = 0; i < 10_000; i++) step(i);
  let operations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < DURATION_MS) {
    for (let i = 0; i < 1_000; i++) step(operations + i);
    operations += 1_000;
    elapsed = performance.now() - start;
  }
  return (operations / elapsed) * 1_000;
}

function report(name: string, opsPerSecond: number, extra = ""): void {
  const figure = Math.round(opsPerSecond).toLocaleString("en-US");
  console.log(`${name}: ${figure} ops/s${extra}`);
}

function filledTable(keys: number): PropertyTable {
  const table = new PropertyTable();
  const entries: Array<[PropertyPath, unknown]> = [];
  for (let i = 0; i < keys; i++) {
    entries.push([["interface", `if${i}`, i % 2 ? "connection" : "state"], i]);
  }
  table.putMany(entries);
  return table;
}

/** Subscribers that must not hear the benchmark's writes, spread over literal and ANY branches. */
function addNonMatching(table: PropertyTable, count: number): void {
  for (let i = 0; i < count; i++) {
    const pattern: Pattern =
      i % 3 === 0
        ? ["interface", `eth${i}`, "state"]
        : i % 3 === 1
          ? [ANY, `other${i}`]
          : [`family${i}`, ANY, "state"];
    table.subscribe(pattern, () => {
      throw new Error("non-matching subscriber called");
    });
  }
}

function putWithSubscribers(nonMatching: number): number {
  const table = new PropertyTable();
  let heard = 0;
  for (let i = 0; i < 10; i++) table.subscribe(["interface", "wlan0"], () => heard++);
  addNonMatching(table, nonMatching);
  const result = measure((i) => table.put(["interface", "wlan0", "state"], i));
  if (heard === 0) throw new Error("matching subscribers were never called");
  return result;
}

/** The reference design (Elixir property_table): every subscription checked on every write. */
function naiveDispatchPut(nonMatching: number): number {
  const subscriptions: Array<{ pattern: Pattern; listener: () => void }> = [];
  let heard = 0;
  for (let i = 0; i < 10; i++) {
    subscriptions.push({ pattern: ["interface", "wlan0"], listener: () => heard++ });
  }
  const table = new PropertyTable();
  addNonMatching(table, 0);
  for (let i = 0; i < nonMatching; i++) {
    subscriptions.push({ pattern: ["interface", `eth${i}`, "state"], listener: () => {} });
  }
  const property = ["interface", "wlan0", "state"];
  const result = measure((i) => {
    table.put(property, i);
    for (const subscription of subscriptions) {
      if (matches(subscription.pattern, property)) subscription.listener();
    }
  });
  if (heard === 0) throw new Error("matching subscribers were never called");
  return result;
}

console.log(
  `# @runtime/property-table, Node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}`,
);

{
  const table = filledTable(10_000);
  let sink = 0;
  report(
    "get (10,000 keys)",
    measure((i) => {
      sink += table.get(
        ["interface", `if${i % 10_000}`, i % 2 ? "connection" : "state"],
        0,
      ) as number;
    }),
  );
  if (sink < 0) console.log(sink);
}

{
  const table = new PropertyTable();
  report(
    "put, no subscribers",
    measure((i) => table.put(["interface", "wlan0", "state"], i)),
  );
}

const thousand = putWithSubscribers(1_000);
report("put, 10 matching + 1,000 non-matching subscribers", thousand);
const tenThousand = putWithSubscribers(10_000);
report(
  "put, 10 matching + 10,000 non-matching subscribers",
  tenThousand,
  ` (1,000-case ops/s divided by this: ${(thousand / tenThousand).toFixed(2)}; goal <= 1.5)`,
);
const naive = naiveDispatchPut(10_000);
report(
  "reference: put + naive scan dispatch, 10 matching + 10,000 non-matching",
  naive,
  ` (indexed is ${(tenThousand / naive).toFixed(1)}x faster)`,
);

{
  const table = filledTable(10_000);
  let found = 0;
  report(
    "match [interface, ANY, connection] over 10,000 keys",
    measure(() => {
      found = table.match(["interface", ANY, "connection"]).length;
    }),
    "",
  );
  if (found !== 5_000) throw new Error(`expected 5,000 matches, got ${found}`);
}

{
  const table = new PropertyTable();
  addNonMatching(table, 1_000);
  report(
    "subscribe + unsubscribe churn (1,000 others present)",
    measure((i) => {
      const unsubscribe = table.subscribe(["interface", `churn${i % 100}`, ANY], () => {});
      unsubscribe();
    }),
  );
}
