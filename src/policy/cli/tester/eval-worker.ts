// Worker entry of the test evaluator (evaluator.ts): `load` installs a compiled test module,
// then each request evaluates one test. The worker is reused for later runs; one that runs over
// its time is terminated instead.
import { parentPort } from 'node:worker_threads';
import { TestEvaluation, type EvalRequest, type EvaluatorInit } from './evaluate.js';

let evaluation: TestEvaluation | undefined;
parentPort!.on('message', (m: { load: EvaluatorInit } | EvalRequest) => {
  void (async () => {
    if ('load' in m) {
      try {
        evaluation = await TestEvaluation.load(m.load);
        parentPort!.postMessage({ loaded: true });
      } catch (e) {
        parentPort!.postMessage({ loaded: false, message: (e as Error)?.message ?? String(e) });
      }
      return;
    }
    parentPort!.postMessage(evaluation!.run(m));
  })();
});
parentPort!.postMessage('ready');
