import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { StatsSample } from './api';

const WINDOW_S = 15 * 60;

/** Online sessions (left axis) and delivery latency p95 (right axis, ms) over 15 minutes. */
export class LiveChart {
  private readonly plot: uPlot;
  private samples: StatsSample[] = [];

  constructor(container: HTMLElement) {
    this.plot = new uPlot(
      {
        width: Math.max(container.clientWidth, 320),
        height: 220,
        scales: {
          // Always the last 15 minutes, however few samples there are yet.
          x: { time: true, range: () => [Date.now() / 1000 - WINDOW_S, Date.now() / 1000] },
          sessions: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max * 1.2))] },
          ms: { range: (_u, _min, max) => [0, Math.max(50, Math.ceil((max ?? 0) * 1.2))] },
        },
        series: [
          {},
          { label: 'sessions', stroke: '#2563eb', width: 2, scale: 'sessions' },
          {
            label: 'delivery p95 (ms)',
            stroke: '#dc2626',
            width: 1.5,
            scale: 'ms',
            spanGaps: false,
          },
        ],
        axes: [{}, { scale: 'sessions' }, { scale: 'ms', side: 1, grid: { show: false } }],
      },
      [[], [], []],
      container,
    );
    window.addEventListener('resize', () =>
      this.plot.setSize({ width: Math.max(container.clientWidth, 320), height: 220 }),
    );
  }

  replace(samples: StatsSample[]): void {
    this.samples = [...samples];
    this.draw();
  }

  add(sample: StatsSample): void {
    this.samples.push(sample);
    this.draw();
  }

  private draw(): void {
    const from = Date.now() / 1000 - WINDOW_S;
    this.samples = this.samples.filter((s) => Date.parse(s.at) / 1000 >= from);
    this.plot.setData([
      this.samples.map((s) => Date.parse(s.at) / 1000),
      this.samples.map((s) => s.sessions),
      this.samples.map((s) => s.deliveryP95Ms),
    ]);
  }
}
