import { BuiltinMealAnalyzer } from './builtin-meal.analyzer';
import { FoodCatalog } from './food-catalog';
import type { FoodRecord } from './food.types';
import { FOODS } from './foods.data';
import { MealAnalysisError } from './meal-analysis.error';
import { tokenizeMealText } from './meal-text.tokenizer';

const catalog = new FoodCatalog(FOODS);

function food(name: string): FoodRecord {
  const found = catalog.lookup(name);
  if (!found) throw new Error(`test setup: "${name}" is not in the catalog`);
  return found;
}

/** What `grams` of the food contain according to the catalog, unrounded. */
function expectedNutrition(name: string, grams: number) {
  const f = food(name);
  return {
    calories: (f.kcal * grams) / 100,
    proteinG: (f.proteinG * grams) / 100,
    carbsG: (f.carbsG * grams) / 100,
    fatG: (f.fatG * grams) / 100,
  };
}

describe('BuiltinMealAnalyzer', () => {
  const analyzer = new BuiltinMealAnalyzer();

  it('analyses a single food with rounded values', async () => {
    await expect(analyzer.analyze('1 small apple')).resolves.toEqual({
      // 149 g × (52 kcal, 0.26 g, 13.81 g, 0.17 g) / 100 g
      items: [
        {
          name: 'apple',
          quantity: 1,
          unit: 'small',
          grams: 149,
          calories: 77,
          proteinG: 0.4,
          carbsG: 20.6,
          fatG: 0.3,
        },
      ],
      totals: { calories: 77, proteinG: 0.4, carbsG: 20.6, fatG: 0.3 },
      unrecognized: [],
    });
  });

  it('rounds grams and macros to one decimal and calories to whole kcal', async () => {
    const { items } = await analyzer.analyze('a glass of orange juice');

    // 250 ml × 248 g / 236.588 ml = 262.06 g; 45 kcal, 0.7 / 10.4 / 0.2 g per 100 g
    expect(items[0]).toMatchObject({
      grams: 262.1,
      calories: 118,
      proteinG: 1.8,
      carbsG: 27.3,
      fatG: 0.5,
    });
    await expect(analyzer.analyze('1/3 cup of rice')).resolves.toMatchObject({
      items: [{ quantity: 0.33 }],
    });
  });

  it('totals match the catalog values of every item', async () => {
    const analysis = await analyzer.analyze(
      '200g chicken breast, 150 g white rice and 100g broccoli',
    );

    const parts = [
      expectedNutrition('chicken breast', 200),
      expectedNutrition('white rice', 150),
      expectedNutrition('broccoli', 100),
    ];
    const sum = (key: keyof (typeof parts)[number]) =>
      parts.reduce((total, part) => total + part[key], 0);
    expect(analysis.items.map((item) => [item.name, item.grams])).toEqual([
      ['chicken breast', 200],
      ['white rice', 150],
      ['broccoli', 100],
    ]);
    expect(analysis.totals.calories).toBe(Math.round(sum('calories')));
    expect(analysis.totals.proteinG).toBeCloseTo(sum('proteinG'), 1);
    expect(analysis.totals.carbsG).toBeCloseTo(sum('carbsG'), 1);
    expect(analysis.totals.fatG).toBeCloseTo(sum('fatG'), 1);
    // 330 + 195 + 35 kcal
    expect(analysis.totals.calories).toBe(560);
  });

  it('computes totals from unrounded item values, not from the rounded ones', async () => {
    const { items, totals } = await analyzer.analyze('100g apple, 100g banana, 100g pear');

    // Protein 0.26 + 1.09 + 0.36 = 1.71 → 1.7, although the items show 0.3 + 1.1 + 0.4 = 1.8.
    expect(items.map((item) => item.proteinG)).toEqual([0.3, 1.1, 0.4]);
    expect(totals.proteinG).toBe(1.7);
    // Carbs 13.81 + 22.84 + 15.23 = 51.88 → 51.9, although the items show 13.8 + 22.8 + 15.2 = 51.8.
    expect(items.map((item) => item.carbsG)).toEqual([13.8, 22.8, 15.2]);
    expect(totals.carbsG).toBe(51.9);
    expect(totals.calories).toBe(198);
  });

  it('reports the words it did not recognise next to the foods it did', async () => {
    await expect(analyzer.analyze('1 small apple and a flurble')).resolves.toMatchObject({
      items: [{ name: 'apple' }],
      unrecognized: ['flurble'],
    });
  });

  it.each([
    ['blah blah', 'No food recognised in "blah blah"'],
    ['2 cups of flurble', 'No food recognised in "flurble"'],
    ['2 cups of', 'No food recognised in "2 cups of"'],
    ['   ', 'No food recognised: the text is empty'],
  ])('rejects %j with a non-retryable error naming the unknown words', async (text, message) => {
    const error: unknown = await analyzer.analyze(text).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(error).toBeInstanceOf(MealAnalysisError);
    expect(error).toMatchObject({ message, retryable: false });
  });

  it('shortens a long unrecognised text in the message', async () => {
    await expect(analyzer.analyze('zork '.repeat(100))).rejects.toThrow(
      /^No food recognised in "(zork ){15}zork…"$/,
    );
  });
});

describe('food catalog data', () => {
  it('has at least 150 foods', () => {
    expect(FOODS.length).toBeGreaterThanOrEqual(150);
  });

  it('loads into a FoodCatalog (no duplicate keys, every used portion has a weight)', () => {
    expect(() => new FoodCatalog(FOODS)).not.toThrow();
  });

  it('has no name or synonym used twice, even after normalisation', () => {
    const keys = FOODS.flatMap((f) => [f.name, ...(f.synonyms ?? [])]).map((spelling) =>
      tokenizeMealText(spelling)
        .map((token) => token.text)
        .join(' '),
    );
    const duplicates = keys.filter((key, index) => keys.indexOf(key) !== index);
    expect(duplicates).toEqual([]);
  });

  it('covers the everyday foods and drinks people log', () => {
    const everyday = [
      'coffee',
      'tea',
      'milk',
      'orange juice',
      'coke',
      'beer',
      'wine',
      'water',
      'latte',
      'pizza',
      'burger',
      'fries',
      'sandwich',
      'salad',
      'soup',
      'toast',
      'rice',
      'pasta',
      'egg',
      'chicken breast',
      'salmon',
      'lentils',
      'almonds',
      'yogurt',
      'cheese',
      'apple',
      'broccoli',
    ];
    expect(everyday.filter((name) => catalog.lookup(name) === undefined)).toEqual([]);
  });

  it.each(FOODS.map((f) => [f.name, f] as const))('%s has plausible numbers', (_name, f) => {
    for (const value of [f.kcal, f.proteinG, f.carbsG, f.fatG]) {
      expect(value).toBeGreaterThanOrEqual(0); // NaN fails it too
      expect(value).toBeLessThan(Infinity);
    }
    expect(f.proteinG + f.carbsG + f.fatG).toBeLessThanOrEqual(100);
    expect(f.kcal).toBeLessThanOrEqual(900);
    if (f.category !== 'alcohol') {
      // Atwater factors; fibre and polyols make real values lower, hence the tolerance.
      const atwater = 4 * f.proteinG + 4 * f.carbsG + 9 * f.fatG;
      const allowed = Math.max(25, 0.25 * atwater);
      expect(Math.abs(f.kcal - atwater)).toBeLessThanOrEqual(allowed);
    } else {
      // Alcohol (7 kcal/g) is not a macro here, so energy must exceed what the macros explain.
      expect(f.kcal).toBeGreaterThan(4 * f.proteinG + 4 * f.carbsG + 9 * f.fatG);
    }
    for (const grams of Object.values(f.portions)) {
      expect(grams).toBeGreaterThan(0);
      expect(grams).toBeLessThan(2000);
    }
  });

  it('refuses a catalog where one synonym names two foods', () => {
    const base = FOODS[0];
    expect(
      () =>
        new FoodCatalog([
          { ...base, name: 'apple', synonyms: ['pomme'] },
          { ...base, name: 'pear', synonyms: ['Pomme'] },
        ]),
    ).toThrow('"Pomme" names both "apple" and "pear"');
  });

  it('refuses a food whose default portion has no weight', () => {
    expect(
      () =>
        new FoodCatalog([
          { ...FOODS[0], name: 'odd', portions: { cup: 100 }, defaultPortion: 'slice' },
        ]),
    ).toThrow('Food "odd" uses a slice portion it gives no weight for');
  });
});
