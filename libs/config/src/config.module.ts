import { Global, Module } from '@nestjs/common';
import { FlywheelConfig, loadConfigOrExit } from './config';

export const FLYWHEEL_CONFIG = Symbol('FLYWHEEL_CONFIG');

@Global()
@Module({
  providers: [{ provide: FLYWHEEL_CONFIG, useFactory: (): FlywheelConfig => loadConfigOrExit() }],
  exports: [FLYWHEEL_CONFIG],
})
export class ConfigModule {}
