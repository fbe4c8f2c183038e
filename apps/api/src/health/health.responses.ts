import { ApiProperty } from '@nestjs/swagger';

export class LiveDto {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

export class ReadyChecksDto {
  @ApiProperty({ example: 'ok', description: '`ok`, `timeout` or `down: <reason>`' }) database: string;
  @ApiProperty({ example: 'ok', description: '`ok`, `timeout` or `down: <reason>`' }) kafka: string;
}

export class ReadyDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status: 'ok' | 'unavailable';
  @ApiProperty({ type: ReadyChecksDto }) checks: ReadyChecksDto;
}
