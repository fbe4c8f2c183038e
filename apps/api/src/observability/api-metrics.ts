import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

@Injectable()
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'flywheel_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'flywheel_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
  });
  private readonly accepted = new Counter({ name: 'flywheel_events_accepted_total', help: 'Events acknowledged by Kafka and answered 202', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  eventsAccepted(n: number): void {
    this.accepted.inc(n);
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }
}
