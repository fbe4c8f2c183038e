/** Test-only helpers of libs/reward-model (`@flywheel/reward-model/testing`): models of random weights, raw-looking features. */
export { randomRewardModel, randomFeatures } from './random-model.testing';
