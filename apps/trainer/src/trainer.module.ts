import { Module } from '@nestjs/common';
import { ConfigModule, FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { DatabaseModule, PreferencePublicationsRepository, PreferenceSetsRepository } from '@flywheel/database';
import { KafkaPublisher, createKafka } from '@flywheel/kafka';
import { SetPublisher } from './set-publisher';
import { TrainerRunner } from './trainer-runner';

@Module({
  imports: [ConfigModule, DatabaseModule],
  providers: [
    TrainerRunner,
    {
      provide: SetPublisher,
      inject: [FLYWHEEL_CONFIG, PreferenceSetsRepository, PreferencePublicationsRepository],
      useFactory: (config: FlywheelConfig, sets: PreferenceSetsRepository, publications: PreferencePublicationsRepository) =>
        new SetPublisher(config, sets, publications, new KafkaPublisher(createKafka(config, 'trainer'), config.kafka.sendTimeoutMs)),
    },
  ],
})
export class TrainerModule {}
