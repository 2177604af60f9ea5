/*
 * Preloaded into a child MealPulse process (node -r) by the crash test: the moment a committed
 * notification is about to be pushed, the process dies as if killed, so the test can prove the
 * outbox survives a crash between the completion commit and the push.
 */
const { join } = require('node:path');
const { NotificationDelivery } = require(
  join(__dirname, '..', '..', 'dist', 'src', 'notifications', 'notification-delivery.js'),
);

NotificationDelivery.prototype.push = function crashInsteadOfPushing() {
  process.kill(process.pid, 'SIGKILL');
};
