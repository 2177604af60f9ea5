import { generateKeyPairSync, KeyObject, randomBytes, randomInt } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { md, pki } from 'node-forge';

/** Everything a test needs to play both sides of APNs token auth: the provider and Apple. */
export interface ApnsTestCredentials {
  /** `AuthKey_<keyId>.p8`: the ES256 signing key, in the format Apple hands out. */
  keyFile: string;
  keyId: string;
  teamId: string;
  /** The app's bundle id, sent as `apns-topic`. */
  topic: string;
  /** The public half of the signing key: what Apple verifies provider tokens against. */
  publicKey: KeyObject;
  /** The peer's self-signed TLS certificate (PEM), valid for 127.0.0.1 and localhost. */
  tlsCert: string;
  tlsKey: string;
  /** `tlsCert` on disk, for NODE_EXTRA_CA_CERTS in the service process. */
  caFile: string;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A 10-character id shaped like Apple's key and team ids. */
function appleStyleId(): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function selfSignedCertificate(): { certPem: string; keyPem: string } {
  // Node generates the RSA key natively in milliseconds; forge's pure-JS generator takes seconds.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  const cert = pki.createCertificate();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  cert.publicKey = pki.publicKeyFromPem(publicPem);
  // A positive serial: a leading byte with the high bit set would make the DER integer negative.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const yesterday = new Date(Date.now() - 24 * 60 * 60 * 1000);
  const inTenYears = new Date(yesterday);
  inTenYears.setFullYear(inTenYears.getFullYear() + 10);
  // Starting yesterday keeps the certificate valid when clocks (or a test's fake clock) drift.
  cert.validity.notBefore = yesterday;
  cert.validity.notAfter = inTenYears;
  const name = [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    // CA:true lets a client trust this certificate directly, as its own root.
    { name: 'basicConstraints', cA: true, critical: true },
    {
      name: 'keyUsage',
      critical: true,
      keyCertSign: true,
      digitalSignature: true,
      keyEncipherment: true,
    },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 2, value: 'localhost' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(pki.privateKeyFromPem(keyPem), md.sha256.create());
  return { certPem: pki.certificateToPem(cert), keyPem };
}

/**
 * Writes a fresh APNs signing key (`AuthKey_<keyId>.p8`, 0600) and the local peer's TLS
 * certificate (`apns-peer-cert.pem`) into `dir`, which must exist.
 */
export async function createApnsTestCredentials(dir: string): Promise<ApnsTestCredentials> {
  const keyId = appleStyleId();
  const teamId = appleStyleId();

  // Apple's .p8 files are unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") of a P-256 key.
  const signing = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyFile = join(dir, `AuthKey_${keyId}.p8`);
  await writeFile(keyFile, signing.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  // writeFile's mode only applies when it creates the file, and the umask may narrow it.
  await chmod(keyFile, 0o600);

  const { certPem, keyPem } = selfSignedCertificate();
  const caFile = join(dir, 'apns-peer-cert.pem');
  await writeFile(caFile, certPem);

  return {
    keyFile,
    keyId,
    teamId,
    topic: 'com.example.mealpulse',
    publicKey: signing.publicKey,
    tlsCert: certPem,
    tlsKey: keyPem,
    caFile,
  };
}

/**
 * The service's APNs configuration for a local peer at `peerUrl` signed with `credentials`: its
 * self-signed certificate trusted the way an operator trusts a proxy's (NODE_EXTRA_CA_CERTS).
 */
export function apnsServiceEnv(
  credentials: ApnsTestCredentials,
  peerUrl: string,
): Record<string, string> {
  return {
    APNS_KEY_FILE: credentials.keyFile,
    APNS_KEY_ID: credentials.keyId,
    APNS_TEAM_ID: credentials.teamId,
    APNS_TOPIC: credentials.topic,
    APNS_URL: peerUrl,
    NODE_EXTRA_CA_CERTS: credentials.caFile,
  };
}
