// Every fast-check property runs from a fixed seed unless it names its own, so a CI run is
// reproducible: a failure prints the seed and path, and the same inputs run again next time.
import fc from 'fast-check';

fc.configureGlobal({ seed: 20261204 });
