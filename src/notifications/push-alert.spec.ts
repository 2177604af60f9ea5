import type { MealLogView } from '../meal-logs/meal-log.view';
import { pushAlertFor } from './push-alert';

const totals = { calories: 77.4, proteinG: 0.4, carbsG: 20.6, fatG: 0.3 };
const item = { name: 'apple', quantity: 1, unit: 'small', grams: 149, ...totals };

function log(fields: Partial<MealLogView>): MealLogView {
  return {
    id: 'c0ffee00-0000-4000-8000-000000000000',
    status: 'completed',
    text: '1 small apple',
    mealType: null,
    loggedAt: '2026-12-03T12:00:00.000Z',
    createdAt: '2026-12-03T12:00:00.000Z',
    completedAt: '2026-12-03T12:00:00.100Z',
    items: [item],
    totals,
    unrecognized: [],
    error: null,
    ...fields,
  };
}

const long = `${'toast with butter and jam, '.repeat(8)}and a coffee`;

describe('pushAlertFor', () => {
  it.each<[string, Partial<MealLogView>, { title: string; body: string }]>([
    ['a completed log', {}, { title: 'Meal analysed', body: '1 small apple · 77 kcal' }],
    [
      'calories rounded to whole kcal',
      { totals: { ...totals, calories: 249.5 } },
      { title: 'Meal analysed', body: '1 small apple · 250 kcal' },
    ],
    [
      'white space in the text collapsed',
      { text: '  2 eggs\n and   toast ' },
      { title: 'Meal analysed', body: '2 eggs and toast · 77 kcal' },
    ],
    [
      'nothing recognised',
      { text: 'qwerty', items: [], totals: null, unrecognized: ['qwerty'] },
      { title: 'No food recognised', body: 'Nothing in “qwerty” matched a food we know.' },
    ],
    [
      'a failed log',
      { status: 'failed', items: [], totals: null, error: 'analyzer unavailable' },
      { title: 'Meal not analysed', body: '“1 small apple” could not be analysed.' },
    ],
  ])('%s', (_case, fields, alert) => {
    expect(pushAlertFor(log(fields))).toEqual(alert);
  });

  it('shortens a long text at a word, and never past 120 characters', () => {
    const { body } = pushAlertFor(log({ text: long }));
    const quotedText = body.split(' · ')[0];
    expect(quotedText.length).toBeLessThanOrEqual(120);
    // 119 characters end inside "toast with butter": cut back to the last whole word.
    expect(quotedText).toBe(`${'toast with butter and jam, '.repeat(4)}toast with…`);
  });

  it('keeps a 1,000-character text inside the 4 KiB APNs payload', () => {
    const { title, body } = pushAlertFor(log({ text: '漢'.repeat(1000) }));
    expect(Buffer.byteLength(title + body)).toBeLessThan(1_000);
  });
});
