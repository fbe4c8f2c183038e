/** Test support: the row-path oracle of the pair formats and sample rows (`@flywheel/preferences/testing`). */
export * from './row-encoders.testing';
export * from './pair-rows.testing';
export * from './trainer-loaders.testing';
