import { Module } from '@nestjs/common';
import { ConfigModule } from '@flywheel/config';
import { DatabaseModule } from '@flywheel/database';
import { ApiKeyGuard } from './auth/api-key.guard';
import { FeedbackController } from './feedback/feedback.controller';
import { FeedbackService } from './feedback/feedback.service';
import { HealthController } from './health/health.controller';
import { DashboardController } from './metrics/dashboard.controller';
import { SatisfactionMetricsController } from './metrics/satisfaction-metrics.controller';
import { SatisfactionMetricsService } from './metrics/satisfaction-metrics.service';
import { ApiMetrics } from './observability/api-metrics';
import { MetricsController } from './observability/metrics.controller';
import { ModelsController } from './models/models.controller';
import { GeneratorsController, PreferenceSetsController } from './preferences/preference-sets.controller';
import { PreferenceSetsService } from './preferences/preference-sets.service';
import { ScoringController } from './scoring/scoring.controller';
import { ScoringService } from './scoring/scoring.service';
import { ProjectController } from './videos/project.controller';
import { VideosController } from './videos/videos.controller';

@Module({
  imports: [ConfigModule, DatabaseModule],
  controllers: [
    FeedbackController, VideosController, ProjectController, HealthController, MetricsController, ScoringController,
    ModelsController, PreferenceSetsController, GeneratorsController, SatisfactionMetricsController, DashboardController,
  ],
  providers: [FeedbackService, ApiKeyGuard, ApiMetrics, ScoringService, PreferenceSetsService, SatisfactionMetricsService],
})
export class AppModule {}
