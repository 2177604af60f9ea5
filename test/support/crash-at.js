/*
 * Preloaded into a child MealPulse process (node -r) by the crash matrix. CRASH_AT names a method
 * of the built service and when to die around it:
 *   CRASH_AT=meal-logs/meal-logs.service#MealLogsService.create:after
 * `before`: SIGKILL as the method is called; `after`: once its promise has settled (a commit
 * made, its answer not yet sent). The kill is the process's own SIGKILL: nothing runs after it.
 */
const { join } = require('node:path');

const match = /^([\w./-]+)#(\w+)\.(\w+):(before|after)$/.exec(process.env.CRASH_AT ?? '');
if (!match) throw new Error(`CRASH_AT must look like dir/file#Class.method:before|after`);
const [, modulePath, className, method, when] = match;
const Class = require(join(__dirname, '..', '..', 'dist', 'src', modulePath))[className];
const original = Class.prototype[method];
if (typeof original !== 'function') throw new Error(`CRASH_AT: no method ${className}.${method}`);

const die = () => process.kill(process.pid, 'SIGKILL');
Class.prototype[method] = function crashing(...args) {
  if (when === 'before') die();
  return Promise.resolve(original.apply(this, args)).finally(die);
};
