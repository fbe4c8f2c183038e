import { ApiProperty } from '@nestjs/swagger';

const FREE_FORM = { type: 'object', additionalProperties: true } as const;

export class ModelDto {
  @ApiProperty({ format: 'uuid', description: 'Derived from the project, the data source and the ONNX content' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ description: "The project's registry version, from 1" }) version: number;
  @ApiProperty({ enum: ['linear', 'mlp'] }) kind: 'linear' | 'mlp';
  @ApiProperty({ enum: ['candidate', 'production', 'retired'] }) status: 'candidate' | 'production' | 'retired';
  @ApiProperty({ type: String, nullable: true, description: 'Why it has that status (the promotion decision)' }) statusReason: string | null;
  @ApiProperty() featureDim: number;
  @ApiProperty({ example: 'satisfaction-v2' }) policyId: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null: trained on live data' }) preferenceSetId: string | null;
  @ApiProperty({ ...FREE_FORM, description: 'Evaluation on the test split, baselines, dimension heads and the promotion decision (metrics.promotion)' })
  metrics: Record<string, unknown>;
  @ApiProperty({ format: 'uuid', description: 'The frozen evaluation pairs the promotion gate scores' }) evaluationSetId: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) promotedAt: string | null;
}

export class ModelWithCardDto extends ModelDto {
  @ApiProperty({ ...FREE_FORM, description: 'The model card (also as Markdown: GET /v1/models/{id}/card.md)' }) card: Record<string, unknown>;
}

export class TrainingJobDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ ...FREE_FORM, description: 'The options it was queued with' }) options: Record<string, unknown>;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed'] }) status: 'queued' | 'running' | 'succeeded' | 'failed';
  @ApiProperty({ ...FREE_FORM, nullable: true, description: 'What the trainer reports while it runs' }) progress: Record<string, unknown> | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The model it produced' }) modelId: string | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
}

export class PairMetricsDto {
  @ApiProperty() pairs: number;
  @ApiProperty({ description: 'Pairs with a winner: the ones accuracy, AUC and ECE are measured on' }) decisivePairs: number;
  @ApiProperty() ties: number;
  @ApiProperty({ type: Number, nullable: true }) accuracy: number | null;
  @ApiProperty({ type: Number, nullable: true }) auc: number | null;
  @ApiProperty({ type: Number, nullable: true }) logLoss: number | null;
  @ApiProperty({ type: Number, nullable: true }) ece: number | null;
}

export class ProductionMetricsDto extends PairMetricsDto {
  @ApiProperty({ format: 'uuid' }) modelId: string;
}

export class PromotionDecisionDto {
  @ApiProperty() promoted: boolean;
  @ApiProperty() reason: string;
  @ApiProperty({ type: ModelDto, description: 'The model after the decision' }) model: ModelDto;
  @ApiProperty({ type: PairMetricsDto, description: "The candidate on its frozen evaluation pairs" }) candidate: PairMetricsDto;
  @ApiProperty({ type: ProductionMetricsDto, nullable: true, description: 'Production on the same pairs; null when there is none' })
  production: ProductionMetricsDto | null;
  @ApiProperty({ ...FREE_FORM, nullable: true, description: 'The paired test (null for the first model of a project and for an override)' })
  statistics: Record<string, unknown> | null;
  @ApiProperty({
    type: 'array', items: FREE_FORM,
    description: 'The per-dimension veto: one entry per head with frozen pairs when there is a production model (dimension, gated, worse, reason and its statistics)',
  })
  heads: Record<string, unknown>[];
}
