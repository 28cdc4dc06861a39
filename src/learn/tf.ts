/**
 * TensorFlow.js, loaded lazily (an optional peer dependency, like node-llama-cpp): only `bayesact pretrain` and the
 * learned-planner experiments need it. Training runs on the WebAssembly backend (XNNPACK with SIMD): on the 2-core
 * development machine it trains the recipe's planner transformer 22.7× faster than the pure-JavaScript CPU backend
 * (11,475 against 505 tokens/s, `npm run bench:pretrain`, docs/theory.md). No autodiff is written here: gradients are TensorFlow.js's.
 */
import { UserError } from "../core/errors.ts";

export type Tf = typeof import("@tensorflow/tfjs");
export type Backend = "wasm" | "cpu";

const loaded = new Map<Backend, Promise<Tf>>();

/** The TensorFlow.js namespace with `backend` active (`wasm` by default). Missing packages: one clear line. */
export function loadTf(backend: Backend = "wasm"): Promise<Tf> {
  let promise = loaded.get(backend);
  if (promise === undefined) {
    promise = (async () => {
      let tf: Tf;
      try {
        tf = await import("@tensorflow/tfjs");
        if (backend === "wasm") await import("@tensorflow/tfjs-backend-wasm");
      } catch (error) {
        throw new UserError(
          `pretraining needs TensorFlow.js: npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`,
          { category: "missing_dependency" },
        );
      }
      // PROD silences TensorFlow.js's console advice (the library never prints).
      tf.env().set("PROD", true);
      if (!(await tf.setBackend(backend))) {
        throw new UserError(`TensorFlow.js backend ${backend} could not be initialised`, {
          category: "missing_dependency",
        });
      }
      await tf.ready();
      return tf;
    })();
    promise.catch(() => loaded.delete(backend));
    loaded.set(backend, promise);
  }
  return promise;
}
