import { Module } from '@nestjs/common';
import { ConfigModule } from '@flywheel/config';
import { DatabaseModule } from '@flywheel/database';
import { TrainerRunner } from './trainer-runner';

@Module({ imports: [ConfigModule, DatabaseModule], providers: [TrainerRunner] })
export class TrainerModule {}
