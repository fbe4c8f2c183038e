import { ExecutionContext } from '@nestjs/common';
import { FlywheelError } from '@flywheel/errors';
import { loadConfig } from '@flywheel/config';
import { AdminTokenGuard } from './admin-token.guard';

const TOKEN = 'an-admin-token-of-enough-length';
const request = (authorization?: string) => ({
  switchToHttp: () => ({ getRequest: () => ({ headers: authorization ? { authorization } : {} }) }),
}) as unknown as ExecutionContext;

describe('AdminTokenGuard', () => {
  it('lets the admin token through and refuses any other', () => {
    const guard = new AdminTokenGuard(loadConfig({ FLYWHEEL_ADMIN_TOKEN: TOKEN }));
    expect(guard.canActivate(request(`Bearer ${TOKEN}`))).toBe(true);
    expect(() => guard.canActivate(request(`Bearer ${TOKEN}x`))).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(() => guard.canActivate(request())).toThrow(/missing Authorization/);
  });

  it('switches the admin routes off without FLYWHEEL_ADMIN_TOKEN', () => {
    const guard = new AdminTokenGuard(loadConfig({}));
    expect(() => guard.canActivate(request(`Bearer ${TOKEN}`))).toThrow(FlywheelError);
    expect(() => guard.canActivate(request(`Bearer ${TOKEN}`))).toThrow(expect.objectContaining({ code: 'FORBIDDEN', message: expect.stringContaining('FLYWHEEL_ADMIN_TOKEN') }));
  });
});
