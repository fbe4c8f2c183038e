import { Module } from '@nestjs/common';
import { ConfigModule } from '@flywheel/config';
import { DatabaseModule } from '@flywheel/database';
import { AdminTokenGuard } from './admin/admin-token.guard';
import { AdminController, AdminDeletionsController } from './admin/admin.controller';
import { KafkaModule } from '@flywheel/kafka';
import { ApiKeyGuard } from './auth/api-key.guard';
import { KeyCache } from './auth/key-cache';
import { DeletionsController } from './deletions/deletions.controller';
import { DeletionsService } from './deletions/deletions.service';
import { FeedbackController } from './feedback/feedback.controller';
import { FeedbackService } from './feedback/feedback.service';
import { HealthController } from './health/health.controller';
import { KeysController } from './keys/keys.controller';
import { KeysService } from './keys/keys.service';
import { DashboardController } from './metrics/dashboard.controller';
import { SatisfactionMetricsController } from './metrics/satisfaction-metrics.controller';
import { SatisfactionMetricsService } from './metrics/satisfaction-metrics.service';
import { ApiMetrics } from './observability/api-metrics';
import { MetricsController } from './observability/metrics.controller';
import { ModelsController } from './models/models.controller';
import { GeneratorsController, PreferenceSetsController } from './preferences/preference-sets.controller';
import { PreferenceSetsService } from './preferences/preference-sets.service';
import { RateLimiter } from './rate-limit/rate-limiter';
import { ScoringController } from './scoring/scoring.controller';
import { ScoringService } from './scoring/scoring.service';
import { ProjectController } from './keys/project.controller';
import { VideosController } from './videos/videos.controller';

@Module({
  imports: [ConfigModule, DatabaseModule, KafkaModule],
  controllers: [
    FeedbackController, VideosController, ProjectController, HealthController, MetricsController, ScoringController,
    ModelsController, PreferenceSetsController, GeneratorsController, SatisfactionMetricsController, DashboardController,
    KeysController, AdminController, AdminDeletionsController, DeletionsController,
  ],
  providers: [
    FeedbackService, ApiKeyGuard, ApiMetrics, ScoringService, PreferenceSetsService, SatisfactionMetricsService, KeysService,
    RateLimiter, AdminTokenGuard, KeyCache, DeletionsService,
  ],
})
export class AppModule {}
