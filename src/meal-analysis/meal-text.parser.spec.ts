import { FoodCatalog } from './food-catalog';
import type { FoodRecord } from './food.types';
import { FOODS } from './foods.data';
import { parseMealText } from './meal-text.parser';

/** [catalog name, quantity, unit, grams] */
type Item = [string, number, string, number];
type Case = [text: string, items: Item[], unrecognized: string[]];

// Grams are worked out by hand from the catalog's portions: a cup of milk is 244 g, so 2 tbsp are
// 2 × 14.787 ml × 244/236.588 g/ml = 30.5 g; a glass is 250 ml, a bowl 1.5 cups, a can 355 ml.
const cases: Case[] = [
  // The examples from the feature description
  ['1 small apple', [['apple', 1, 'small', 149]], []],
  [
    '2 slices of toast with butter',
    [
      ['white bread', 2, 'slice', 56],
      ['butter', 2, 'tsp', 9.4],
    ],
    [],
  ],
  ['half a cup of rice', [['white rice', 0.5, 'cup', 79]], []],
  [
    '200g chicken breast and a salad',
    [
      ['chicken breast', 200, 'g', 200],
      ['garden salad', 1, 'bowl', 207],
    ],
    [],
  ],
  [
    'a coffee with milk',
    [
      ['coffee', 1, 'cup', 237],
      ['milk', 2, 'tbsp', 30.5],
    ],
    [],
  ],
  ['1 1/2 cups of oatmeal', [['oatmeal', 1.5, 'cup', 351]], []],
  ['a couple of eggs', [['egg', 2, 'piece', 100]], []],
  [
    '3 large eggs, 2 slices of bacon',
    [
      ['egg', 3, 'large', 150],
      ['bacon', 2, 'slice', 16],
    ],
    [],
  ],
  ['a glass of orange juice', [['orange juice', 1, 'glass', 262.1]], []],
  ['2 cans of coke', [['cola', 2, 'can', 736]], []],
  ['12 almonds', [['almond', 12, 'piece', 14.4]], []],
  ['1.5 kg potatoes', [['potato', 1.5, 'kg', 1500]], []],
  ['8 oz steak', [['steak', 8, 'oz', 226.8]], []],
  ['1 tbsp peanut butter', [['peanut butter', 1, 'tbsp', 16]], []],
  ['Banana', [['banana', 1, 'medium', 118]], []],
  [
    'two bananas + a yogurt',
    [
      ['banana', 2, 'medium', 236],
      ['yogurt', 1, 'serving', 170],
    ],
    [],
  ],
  ['a bowl of tomato soup', [['tomato soup', 1, 'bowl', 366]], []],
  ['pizza slice', [['pizza', 1, 'slice', 107]], []],
  ['1 small apple and a flurble', [['apple', 1, 'small', 149]], ['flurble']],

  // Nothing to find
  ['', [], []],
  ['   ,,, !!', [], []],
  ['and with of some', [], []],
  ['blah blah', [], ['blah', 'blah']],
  ['1kg of flurble', [], ['flurble']],
  ['jalapeño', [], ['jalapeno']],
  ['constructor toString', [], ['constructor', 'tostring']],

  // Quantities: words, fractions, decimals, articles, multipliers
  ['half an avocado', [['avocado', 0.5, 'piece', 75]], []],
  [
    '1/2 avocado on toast',
    [
      ['avocado', 0.5, 'piece', 75],
      ['white bread', 1, 'slice', 28],
    ],
    [],
  ],
  ['½ cup of cottage cheese', [['cottage cheese', 0.5, 'cup', 105]], []],
  ['3/4 cup granola', [['granola', 0.75, 'cup', 91.5]], []],
  ['2 1/2 slices of bread', [['white bread', 2.5, 'slice', 70]], []],
  ['one and a half cups of rice', [['white rice', 1.5, 'cup', 237]], []],
  ['1 and a half bananas', [['banana', 1.5, 'medium', 177]], []],
  ['a dozen eggs', [['egg', 12, 'piece', 600]], []],
  ['half a dozen eggs', [['egg', 6, 'piece', 300]], []],
  ['a few grapes', [['grape', 3, 'piece', 15]], []],
  ['a double whisky', [['spirits', 2, 'shot', 84]], []],
  [
    'one apple, two pears, three plums',
    [
      ['apple', 1, 'medium', 182],
      ['pear', 2, 'medium', 356],
      ['plum', 3, 'piece', 198],
    ],
    [],
  ],
  ['0.5 l orange juice', [['orange juice', 0.5, 'l', 524.1]], []],

  // Mass and volume units, with per-food density
  ['1 lb ground beef', [['ground beef', 1, 'lb', 453.6]], []],
  ['5 oz salmon', [['salmon', 5, 'oz', 141.7]], []],
  ['250ml milk', [['milk', 250, 'ml', 257.8]], []],
  ['1 cup flour', [['flour', 1, 'cup', 125]], []],
  ['100 ml flour', [['flour', 100, 'ml', 52.8]], []],
  ['3 tbsp olive oil', [['olive oil', 3, 'tbsp', 40.5]], []],
  ['2 tablespoons of honey', [['honey', 2, 'tbsp', 42]], []],
  ['a pint of beer', [['beer', 1, 'pint', 474]], []],

  // Portion units and their fallbacks
  ['2 slices of milk', [['milk', 2, 'cup', 488]], []],
  ['2 glasses of rice', [['white rice', 2, 'cup', 316]], []],
  ['1 glass of milk', [['milk', 1, 'glass', 257.8]], []],
  ['a glass of wine', [['wine', 1, 'glass', 147]], []],
  ['a can of tuna', [['tuna', 1, 'can', 165]], []],
  ['a bottle of water', [['water', 1, 'bottle', 500]], []],
  ['a shot of espresso', [['espresso', 1, 'shot', 30]], []],
  ['2 scoops of ice cream', [['ice cream', 2, 'scoop', 132]], []],
  ['2 rashers of bacon', [['bacon', 2, 'slice', 16]], []],
  ['2 cloves of garlic', [['garlic', 2, 'piece', 6]], []],
  ['a handful of almonds', [['almond', 1, 'serving', 28]], []],
  ['a slice of cheese', [['cheddar', 1, 'slice', 28]], []],
  ['a slice of pepperoni pizza', [['pepperoni pizza', 1, 'slice', 111]], []],
  ['2 large slices of pizza', [['pizza', 2, 'slice', 214]], []],

  // Sizes
  ['a medium apple', [['apple', 1, 'medium', 182]], []],
  ['a large coffee', [['coffee', 1, 'large', 592]], []],
  ['a large latte', [['latte', 1, 'large', 610]], []],
  ['a small steak', [['steak', 1, 'piece', 200]], []],

  // Plurals, case, punctuation, default and count portions
  ['APPLES!!!', [['apple', 1, 'medium', 182]], []],
  ['3 tomatoes', [['tomato', 3, 'medium', 369]], []],
  ['cherry tomatoes', [['cherry tomato', 1, 'cup', 149]], []],
  ['brussels sprouts', [['brussels sprout', 1, 'cup', 156]], []],
  ['2 chicken breasts', [['chicken breast', 2, 'piece', 300]], []],
  [
    '2 peaches, 3 plums',
    [
      ['peach', 2, 'medium', 300],
      ['plum', 3, 'piece', 198],
    ],
    [],
  ],
  ['grapes', [['grape', 1, 'cup', 151]], []],
  ['10 grapes', [['grape', 10, 'piece', 50]], []],
  ['a handful of berries', [['mixed berries', 1, 'cup', 140]], []],
  ['4 fish fingers', [['fish stick', 4, 'piece', 112]], []],

  // Several items, add-ons after "with", trailing amounts
  [
    'a cup of tea with 2 sugars',
    [
      ['tea', 1, 'cup', 237],
      ['sugar', 2, 'tsp', 8.4],
    ],
    [],
  ],
  [
    'coffee w/ milk and sugar',
    [
      ['coffee', 1, 'cup', 237],
      ['milk', 2, 'tbsp', 30.5],
      ['sugar', 1, 'tsp', 4.2],
    ],
    [],
  ],
  [
    'toast with peanut butter and jam',
    [
      ['white bread', 1, 'slice', 28],
      ['peanut butter', 1, 'tbsp', 16],
      ['jam', 1, 'tbsp', 20],
    ],
    [],
  ],
  [
    'a bagel with cream cheese',
    [
      ['bagel', 1, 'medium', 105],
      ['cream cheese', 1, 'tbsp', 14.5],
    ],
    [],
  ],
  [
    'Greek Yoghurt with honey',
    [
      ['greek yogurt', 1, 'serving', 170],
      ['honey', 1, 'tsp', 7],
    ],
    [],
  ],
  [
    '2 eggs & bacon',
    [
      ['egg', 2, 'piece', 100],
      ['bacon', 1, 'serving', 24],
    ],
    [],
  ],
  ['chicken 200g', [['roast chicken', 200, 'g', 200]], []],
  [
    'hummus and carrots',
    [
      ['hummus', 1, 'serving', 30],
      ['carrot', 1, 'medium', 61],
    ],
    [],
  ],
  [
    'a can of beer and 2 glasses of red wine',
    [
      ['beer', 1, 'can', 356],
      ['red wine', 2, 'glass', 294],
    ],
    [],
  ],
  [
    'a chicken sandwich and a diet coke',
    [
      ['chicken sandwich', 1, 'piece', 180],
      ['diet cola', 1, 'can', 355],
    ],
    [],
  ],
  [
    '2 sausages, 2 fried eggs and beans',
    [
      ['sausage', 2, 'piece', 96],
      ['fried egg', 2, 'piece', 92],
    ],
    ['beans'],
  ],
  [
    'an apple or a pear',
    [
      ['apple', 1, 'medium', 182],
      ['pear', 1, 'medium', 178],
    ],
    ['or'],
  ],
  [
    'some brown rice, 1 cup of broccoli & a grilled salmon fillet',
    [
      ['brown rice', 1, 'cup', 195],
      ['broccoli', 1, 'cup', 156],
      ['salmon', 1, 'piece', 150],
    ],
    [],
  ],
  [
    'I had a cheeseburger, large fries and a milkshake for lunch',
    [
      ['cheeseburger', 1, 'medium', 180],
      ['french fries', 1, 'large', 154],
      ['milkshake', 1, 'medium', 450],
    ],
    [],
  ],

  // Multi-word names and synonyms, longest match first
  [
    'mac & cheese and a coke',
    [
      ['mac and cheese', 1, 'cup', 200],
      ['cola', 1, 'can', 368],
    ],
    [],
  ],
  ['peanut butter and jelly sandwich', [['peanut butter and jelly sandwich', 1, 'piece', 100]], []],
  ['fish and chips', [['fish and chips', 1, 'serving', 350]], []],
  ['an egg roll', [['spring roll', 1, 'piece', 64]], []],
  ['2% milk', [['milk', 1, 'cup', 244]], []],
  ['a glass of oj', [['orange juice', 1, 'glass', 262.1]], []],
  ['a sandwich', [['ham and cheese sandwich', 1, 'piece', 150]], []],
  ['spaghetti bolognese', [['spaghetti bolognese', 1, 'cup', 248]], []],
  [
    '3 strawberries and some blueberries',
    [
      ['strawberry', 3, 'piece', 36],
      ['blueberry', 1, 'cup', 148],
    ],
    [],
  ],
  // Amounts no meal has: the item is reported, never weighed as Infinity or tonnes
  [`${'9'.repeat(400)} apples and a banana`, [['banana', 1, 'medium', 118]], ['apple']],
  [`${'9'.repeat(320)}/${'9'.repeat(320)} apples`, [], ['apple']],
  ['99999999999999999999 g rice and a banana', [['banana', 1, 'medium', 118]], ['white rice']],
  ['100 kg of rice', [['white rice', 100, 'kg', 100_000]], []],
  ['101 kg of rice', [], ['white rice']],
];

describe('parseMealText', () => {
  it('has a table of at least 60 phrases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)('parses %j', (text, expectedItems, expectedUnrecognized) => {
    const meal = parseMealText(text);

    expect(meal.items.map((item) => [item.food.name, item.unit])).toEqual(
      expectedItems.map(([name, , unit]) => [name, unit]),
    );
    meal.items.forEach((item, index) => {
      const [, quantity, , grams] = expectedItems[index];
      expect(item.quantity).toBeCloseTo(quantity, 6);
      expect(Math.abs(item.grams - grams)).toBeLessThanOrEqual(0.5);
    });
    expect(meal.unrecognized).toEqual(expectedUnrecognized);
  });

  it('finds every catalog food by its own name and by each synonym', () => {
    const misread = FOODS.flatMap((food) =>
      [food.name, ...(food.synonyms ?? [])]
        .map((spelling) => [spelling, parseMealText(spelling)] as const)
        .filter(
          ([, meal]) =>
            meal.items.length !== 1 || meal.items[0].food !== food || meal.unrecognized.length > 0,
        )
        .map(([spelling]) => `${spelling} → ${food.name}`),
    );
    expect(misread).toEqual([]);
  });

  it('uses the catalog it is given', () => {
    const tiny: FoodRecord = {
      name: 'flurble',
      category: 'snack',
      kcal: 100,
      proteinG: 1,
      carbsG: 20,
      fatG: 1,
      portions: { piece: 40 },
      defaultPortion: 'piece',
    };
    const meal = parseMealText('2 flurbles and an apple', new FoodCatalog([tiny]));

    expect(meal.items).toEqual([{ food: tiny, quantity: 2, unit: 'piece', grams: 80 }]);
    expect(meal.unrecognized).toEqual(['apple']);
  });
});
