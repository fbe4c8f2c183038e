import { FlywheelError } from '@flywheel/errors';

export type PreferencesErrorCode = 'INVALID_OPTIONS' | 'INVALID_ROW' | 'UNKNOWN_FORMAT';

/** Errors of the preferences library; their HTTP statuses are in ERROR_CODES (libs/errors). */
export class PreferencesError extends FlywheelError<PreferencesErrorCode> {}
