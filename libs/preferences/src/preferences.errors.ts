export type PreferencesErrorCode = 'INVALID_OPTIONS' | 'INVALID_ROW' | 'UNKNOWN_FORMAT';

/** Errors of the preferences library carry a stable code (mapped to HTTP statuses by the app's exception filter). */
export class PreferencesError extends Error {
  override readonly name = 'PreferencesError';
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: PreferencesErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }
}
