import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';

const tokenPath = (deviceId: string) => `/api/v1/devices/${deviceId}/push-token`;
const hex = (n: number, digit = 'a') => digit.repeat(n);

describe('device push tokens', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const stored = () =>
    app.dataSource.query<
      { user_id: string; device_id: string; token: string; environment: string }[]
    >(`SELECT user_id, device_id, token, environment FROM device_push_tokens ORDER BY token`);

  describe('PUT /api/v1/devices/:deviceId/push-token', () => {
    it('registers the token for the token’s user, production by default, stored lower-case', async () => {
      await api(app, 'tok-alice')
        .put(tokenPath('iphone-1'))
        .send({ token: hex(64, 'A') })
        .expect(204);
      expect(await stored()).toContainEqual({
        user_id: 'tok-alice',
        device_id: 'iphone-1',
        token: hex(64, 'a'),
        environment: 'production',
      });
    });

    it('replaces the device’s token and environment when registered again', async () => {
      await api(app, 'tok-bob')
        .put(tokenPath('ipad'))
        .send({ token: hex(64, 'b') })
        .expect(204);
      await api(app, 'tok-bob')
        .put(tokenPath('ipad'))
        .send({ token: hex(200, 'c'), environment: 'sandbox' })
        .expect(204);
      const rows = (await stored()).filter((row) => row.user_id === 'tok-bob');
      expect(rows).toEqual([
        { user_id: 'tok-bob', device_id: 'ipad', token: hex(200, 'c'), environment: 'sandbox' },
      ]);
    });

    it('moves a token registered by another user to that user', async () => {
      const token = hex(64, 'd');
      await api(app, 'tok-seller').put(tokenPath('old-phone')).send({ token }).expect(204);
      await api(app, 'tok-buyer').put(tokenPath('new-phone')).send({ token }).expect(204);
      expect((await stored()).filter((row) => row.token === token)).toEqual([
        { user_id: 'tok-buyer', device_id: 'new-phone', token, environment: 'production' },
      ]);
    });

    it('moves a token between two devices of one user', async () => {
      const token = hex(64, 'e');
      await api(app, 'tok-carol').put(tokenPath('one')).send({ token }).expect(204);
      await api(app, 'tok-carol').put(tokenPath('two')).send({ token }).expect(204);
      expect((await stored()).filter((row) => row.token === token)).toMatchObject([
        { user_id: 'tok-carol', device_id: 'two' },
      ]);
    });

    it('keeps one row per token when two users register it at the same moment', async () => {
      const token = hex(64, 'f');
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          api(app, `tok-race-${i}`).put(tokenPath('phone')).send({ token }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(204));
      expect((await stored()).filter((row) => row.token === token)).toHaveLength(1);
    });

    it.each([
      ['a token of 63 hex characters', { token: hex(63) }, /token/],
      ['a token of 201 hex characters', { token: hex(201) }, /token/],
      ['a token that is not hex', { token: `${hex(63)}g` }, /token/],
      ['a token with a NUL', { token: `${hex(64)}\u0000` }, /token/],
      ['a numeric token', { token: 1234 }, /token/],
      ['no token', {}, /token/],
      ['an unknown environment', { token: hex(64), environment: 'staging' }, /environment/],
      ['an unknown field', { token: hex(64), userId: 'someone-else' }, /userId/],
    ])('refuses %s with 400 naming the field', async (_case, body, field) => {
      const response = await api(app, 'tok-bad').put(tokenPath('phone')).send(body).expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(JSON.stringify(response.body.message)).toMatch(field);
      expect((await stored()).filter((row) => row.user_id === 'tok-bad')).toEqual([]);
    });

    it.each([
      ['too long', 'x'.repeat(65)],
      ['with a space', 'my%20phone'],
      ['with a slash', 'a%2Fb'],
    ])('refuses a device id %s with 400', async (_case, deviceId) => {
      const response = await api(app, 'tok-bad')
        .put(tokenPath(deviceId))
        .send({ token: hex(64) })
        .expect(400);
      expect(JSON.stringify(response.body.message)).toMatch(/deviceId/);
    });

    it('needs a valid access token', async () => {
      await api(app)
        .put(tokenPath('phone'))
        .send({ token: hex(64) })
        .expect(401);
    });
  });

  describe('DELETE /api/v1/devices/:deviceId/push-token', () => {
    it('removes the device’s token, and answers 204 when there is none', async () => {
      await api(app, 'tok-dave')
        .put(tokenPath('phone'))
        .send({ token: hex(70, '1') })
        .expect(204);
      await api(app, 'tok-dave').delete(tokenPath('phone')).expect(204);
      expect((await stored()).filter((row) => row.user_id === 'tok-dave')).toEqual([]);
      await api(app, 'tok-dave').delete(tokenPath('phone')).expect(204);
    });

    it('only ever removes the caller’s own device', async () => {
      await api(app, 'tok-erin')
        .put(tokenPath('phone'))
        .send({ token: hex(70, '2') })
        .expect(204);
      await api(app, 'tok-mallory').delete(tokenPath('phone')).expect(204);
      expect((await stored()).filter((row) => row.user_id === 'tok-erin')).toHaveLength(1);
    });

    it('needs a valid access token', async () => {
      await api(app).delete(tokenPath('phone')).expect(401);
    });
  });
});
