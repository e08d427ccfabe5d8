// Every fast-check property runs from a fixed seed unless it names its own, so a CI run is
// reproducible: a failure prints the seed and path, and the same inputs run again next time.
// Every property is also bounded in time: a failing property whose shrinking builds a gateway per
// step can search for minutes, synchronously, where vitest's test timeout cannot stop it (this
// hung full runs before headers.property.test.ts found its bug). Past the bound the run stops and
// counts as a failure. The slowest property takes a few seconds here; the bound is far above it.
import fc from 'fast-check';

fc.configureGlobal({ seed: 20261204, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true });
