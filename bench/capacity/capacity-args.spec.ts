import { parseCapacityArgs } from './capacity-args';
import { DEFAULT_ASSUMPTIONS } from './capacity.model';

describe('parseCapacityArgs', () => {
  it('keeps the defaults and the results directory without arguments', () => {
    expect(parseCapacityArgs([], '/results')).toEqual({
      assumptions: DEFAULT_ASSUMPTIONS,
      resultsDir: '/results',
    });
  });

  it.each<[string[], Partial<typeof DEFAULT_ASSUMPTIONS>]>([
    [['--users', '2000000'], { users: 2_000_000 }],
    [['--sessions-per-user', '2', '--peak-factor', '4.5'], { sessionsPerUser: 2, peakFactor: 4.5 }],
    [['--postgres-max-connections', '500'], { postgresMaxConnections: 500 }],
  ])('%j overrides its assumption', (argv, overrides) => {
    expect(parseCapacityArgs(argv, '/results').assumptions).toEqual({
      ...DEFAULT_ASSUMPTIONS,
      ...overrides,
    });
  });

  it('reads another results directory', () => {
    expect(parseCapacityArgs(['--results', '/elsewhere'], '/results').resultsDir).toBe(
      '/elsewhere',
    );
  });

  it.each([
    [['--user', '5']],
    [['--users']],
    [['--users', 'many']],
    [['--users', '0']],
    [['--peak-factor', '-1']],
  ])('refuses %j', (argv) => {
    expect(() => parseCapacityArgs(argv, '/results')).toThrow(/usage: npm run capacity/);
  });
});
