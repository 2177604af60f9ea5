import type { components, paths } from './generated/rest-api';

/**
 * The REST calls the simulator (and the soak, through it) makes, typed by the service's OpenAPI
 * document: `generated/rest-api.ts` is generated from it by `npm run contracts` (run by the build
 * and by lint), so a change to the service that breaks this client breaks the build.
 */
export type MealLog = components['schemas']['MealLogResponse'];
export type CreateMealLog =
  paths['/api/v1/meal-logs/natural']['post']['requestBody']['content']['application/json'];
export type PushTokenBody =
  paths['/api/v1/devices/{deviceId}/push-token']['put']['requestBody']['content']['application/json'];
type Created =
  paths['/api/v1/meal-logs/natural']['post']['responses'][201]['content']['application/json'];
type Fetched =
  paths['/api/v1/meal-logs/{id}']['get']['responses'][200]['content']['application/json'];

export class RestClient {
  constructor(private readonly baseUrl: string) {}

  /** `201` with the new log, or throws with the status and body. */
  async postMeal(token: string, body: CreateMealLog, idempotencyKey?: string): Promise<Created> {
    const response = await fetch(new URL('/api/v1/meal-logs/natural', this.baseUrl), {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        ...(idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey }),
      },
      body: JSON.stringify(body),
    });
    if (response.status !== 201)
      throw new Error(`POST meal answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Created;
  }

  /** The log, or null when the service did not answer 200 (or could not be reached). */
  async getMealLog(token: string, id: string): Promise<Fetched | null> {
    const response = await fetch(
      new URL(`/api/v1/meal-logs/${encodeURIComponent(id)}`, this.baseUrl),
      { headers: { Authorization: `Bearer ${token}` } },
    ).catch(() => null);
    return response?.ok ? ((await response.json()) as Fetched) : null;
  }

  /** Whether the device's push token was registered (`204`). */
  async putPushToken(token: string, deviceId: string, body: PushTokenBody): Promise<boolean> {
    const response = await fetch(
      new URL(`/api/v1/devices/${encodeURIComponent(deviceId)}/push-token`, this.baseUrl),
      {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      },
    ).catch(() => null);
    return response?.status === 204;
  }
}
