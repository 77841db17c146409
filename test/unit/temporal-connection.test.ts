import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { connectionOptions } from '../../src/client/connect';
import { ConfigError } from '../../src/errors';
import { temporalSettings } from '../../src/settings';

describe('Temporal connection from the environment', () => {
  test('plain by default', () => {
    expect(connectionOptions(temporalSettings({ TEMPORAL_ADDRESS: 'temporal:7233' }))).toEqual({ address: 'temporal:7233' });
  });

  test("UI links go to the dev server's UI of the address (its port + 1000) unless TEMPORAL_UI_URL says where", () => {
    expect(temporalSettings({}).uiUrl).toBe('http://localhost:8233');
    expect(temporalSettings({ TEMPORAL_ADDRESS: '127.0.0.1:57233' }).uiUrl).toBe('http://127.0.0.1:58233');
    expect(temporalSettings({ TEMPORAL_ADDRESS: '[::1]:7233' }).uiUrl).toBe('http://[::1]:8233');
    expect(temporalSettings({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_UI_URL: 'https://ui.example/' }).uiUrl).toBe('https://ui.example');
  });

  test('an API key (Temporal Cloud) turns TLS on with the system CAs', () => {
    const settings = temporalSettings({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'k3y' });
    expect(connectionOptions(settings)).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'k3y' });
    expect(settings.namespace).toBe('ns.acct');
  });

  test('mutual TLS reads the certificate, key and CA files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-tls-'));
    const file = (name: string) => {
      writeFileSync(path.join(dir, name), `PEM ${name}`);
      return path.join(dir, name);
    };
    const settings = temporalSettings({
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const options = connectionOptions(settings);
    expect(options.tls).toEqual({
      serverNameOverride: 'temporal.internal',
      serverRootCACertificate: Buffer.from('PEM ca.pem'),
      clientCertPair: { crt: Buffer.from('PEM client.pem'), key: Buffer.from('PEM client.key') },
    });
  });

  test('TEMPORAL_TLS=true alone, TEMPORAL_TLS=false, and a certificate without its key', () => {
    expect(connectionOptions(temporalSettings({ TEMPORAL_TLS: 'true' })).tls).toBe(true);
    expect(connectionOptions(temporalSettings({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'x' })).tls).toBeUndefined();
    expect(() => temporalSettings({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' })).toThrow(/go together/);
  });

  test('an unreadable certificate file names the variable', () => {
    expect(() => connectionOptions(temporalSettings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' }))).toThrow(/TEMPORAL_TLS_SERVER_CA_CERT_PATH \/nonexistent\/ca.pem/);
  });
  test.each([
    ['TEMPORAL_TLS', 'yes'],
    ['TEMPORAL_TLS', 'disabled'],
    ['CDCFLOW_SEARCH_ATTRIBUTES', 'no'],
    ['CDCFLOW_SEARCH_ATTRIBUTES', 'of'],
  ])('refuses %s=%s, which used to be taken for the default without a word', (variable, value) => {
    const read = () => temporalSettings({ [variable]: value });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`${variable} must be true or false, not "${value}" (1/0 and on/off are taken too)`);
  });

  test('on/off settings take true/false, 1/0 and on/off in any case, and their default when unset or empty', () => {
    expect(temporalSettings({ CDCFLOW_SEARCH_ATTRIBUTES: 'OFF' }).searchAttributes).toBe(false);
    expect(temporalSettings({ CDCFLOW_SEARCH_ATTRIBUTES: '0' }).searchAttributes).toBe(false);
    expect(temporalSettings({ CDCFLOW_SEARCH_ATTRIBUTES: '' }).searchAttributes).toBe(true);
    expect(temporalSettings({ TEMPORAL_TLS: 'True' }).tls).toEqual({});
    expect(temporalSettings({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k3y' }).tls).toBeUndefined();
    expect(temporalSettings({ TEMPORAL_TLS: '' }).tls).toBeUndefined();
  });
});
