import { ApnsVerdict, verdictOf } from './apns-answer';

describe('verdictOf', () => {
  it.each<[number, string | null, ApnsVerdict]>([
    [200, null, 'sent'],
    [410, 'Unregistered', 'rejected'],
    [410, 'ExpiredToken', 'rejected'],
    [400, 'BadDeviceToken', 'rejected'],
    [400, 'DeviceTokenNotForTopic', 'rejected'],
    [429, 'TooManyRequests', 'retry'],
    [500, 'InternalServerError', 'retry'],
    [503, 'ServiceUnavailable', 'retry'],
    [0, 'apn write timeout', 'retry'],
    [403, 'ExpiredProviderToken', 'retry'],
    [403, 'InvalidProviderToken', 'failed'],
    [400, 'TopicDisallowed', 'failed'],
    [400, 'BadCollapseId', 'failed'],
    [400, null, 'failed'],
    [413, 'PayloadTooLarge', 'failed'],
    [405, 'MethodNotAllowed', 'failed'],
  ])('%i %s → %s', (status, reason, verdict) => {
    expect(verdictOf({ status, reason, timestamp: null })).toBe(verdict);
  });
});
