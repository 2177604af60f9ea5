import { parseArgs } from './args';

const KNOWN = ['w1', 'w3', 'w7'];
const parse = (...argv: string[]) => parseArgs(argv, KNOWN, '/results');

describe('parseArgs', () => {
  it('runs every workload at full size by default', () => {
    const { workloads, options } = parse();
    expect(workloads).toEqual(KNOWN);
    expect(options).toMatchObject({ quick: false, rate: null, rates: null });
  });

  it('takes --rates as ascending distinct rates', () => {
    expect(parse('w7', '--rates', '500, 100,250,100').options.rates).toEqual([100, 250, 500]);
  });

  it.each([
    [['--rates']],
    [['--rates', '']],
    [['--rates', '100,,250']],
    [['--rates', '100,-5']],
    [['--rates', 'fast']],
  ])('refuses %j', (argv) => {
    expect(() => parse('w7', ...argv)).toThrow(/--rates needs positive numbers/);
  });

  it('keeps --rate (W7 main measurement) apart from --rates (the sweep)', () => {
    const { workloads, options } = parse('w7', '--quick', '--rate', '400', '--rates', '50,100');
    expect(workloads).toEqual(['w7']);
    expect(options).toMatchObject({ quick: true, rate: 400, rates: [50, 100] });
  });
});
