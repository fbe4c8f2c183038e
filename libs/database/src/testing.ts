import type { DataSource } from 'typeorm';

/**
 * Tests' handle on the database (`@flywheel/database/testing`): what createDataSource returns, for arranging and
 * inspecting rows with raw SQL and for constructing repositories. Production code gets repositories and
 * DatabaseHealth instead; the driver's types stay in libs/database.
 */
export type TestDatabase = DataSource;
