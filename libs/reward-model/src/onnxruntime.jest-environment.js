/*
 * Test environment for specs that run onnxruntime-node. Jest gives each test file a vm context with its own
 * typed-array constructors, but the native binding creates its output arrays in the main realm, so the
 * `instanceof Float32Array` check in onnxruntime-common fails ("A float32 tensor's data must be type of function
 * Float32Array()"). Handing the context the main realm's typed arrays fixes it, as jest-environment-node already
 * does for ArrayBuffer and Uint8Array. Use it with a docblock resolved from the repository root:
 *   @jest-environment ./libs/reward-model/src/onnxruntime.jest-environment.js
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxRuntimeEnvironment;
