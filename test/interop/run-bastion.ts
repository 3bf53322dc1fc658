// `bastion` from the sources (for child processes in the interop benchmark: node --import tsx).
import { main } from '../../src/cli/main.js';
await main(process.argv);
