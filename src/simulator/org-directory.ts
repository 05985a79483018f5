import type { OktaActor, OktaGeographicalContext } from './okta-event.js';
import type { Random } from './random.js';

/**
 * The population of the simulated org: its users, admins, apps, groups, the places its people
 * sign in from and the clients they use. Modelled on real exports (elastic/integrations,
 * elastic/beats, Okta's docs): ids have Okta's prefixes (00u users, 0oa apps, 00g groups,
 * 00p policies, 00T API tokens), places carry full names and the ISP data of securityContext.
 */
export interface OrgDirectory {
  readonly users: readonly Person[];
  readonly admins: readonly Person[];
  readonly apps: readonly App[];
  readonly groups: readonly Group[];
  readonly policies: readonly Policy[];
  readonly places: readonly Place[];
  readonly browsers: readonly UserAgent[];
  readonly apiClients: readonly UserAgent[];
  readonly system: OktaActor;
  /** The API token the org's automation uses (transaction.detail.requestApiTokenId). */
  readonly automationTokenId: string;
}

export interface Person {
  readonly id: string;
  readonly login: string;
  readonly displayName: string;
  /** Where this person usually is; most of their events come from here. */
  readonly home: Place;
  readonly browser: UserAgent;
}

export interface App {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly signOnMode: 'SAML_2_0' | 'OPENID_CONNECT' | 'BOOKMARK' | 'AUTO_LOGIN';
}

export interface Group {
  readonly id: string;
  readonly name: string;
}

export interface Policy {
  readonly id: string;
  readonly ruleId: string;
  readonly name: string;
  readonly ruleName: string;
}

export interface Place {
  readonly geo: OktaGeographicalContext;
  /** The first two or three octets of this place's IPv4 addresses. */
  readonly ipPrefix: string;
  readonly asNumber: number;
  readonly asOrg: string;
  readonly isp: string;
  readonly domain: string;
}

export interface UserAgent {
  readonly rawUserAgent: string;
  readonly os: string;
  readonly browser: string;
  readonly device: 'Computer' | 'Mobile' | 'Unknown';
}

const FIRST_NAMES = ['Ada', 'Bruno', 'Chen', 'Dalia', 'Emeka', 'Fatima', 'Gustav', 'Hana', 'Ivan', 'Jun', 'Kofi', 'Lena', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Viktor', 'Wen', 'Ximena', 'Yusuf', 'Zoe'];
const LAST_NAMES = ['Andersen', 'Bianchi', 'Costa', 'Dubois', 'Eriksson', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jansen', 'Kowalski', 'Lopez', 'Moreau', 'Nakamura', 'Okafor', 'Patel', 'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Ueda', 'Varga', 'Weber', 'Xu', 'Yilmaz', 'Zhang'];
const EMAIL_DOMAIN = 'acme-corp.example';

const PLACES: readonly Place[] = [
  place('San Francisco', 'California', 'United States', '94105', 37.7852, -122.3874, '136.24', 7922, 'comcast', 'comcast cable communications llc', 'comcast.net'),
  place('Dublin', 'California', 'United States', '94568', 37.7201, -121.919, '67.43', 7018, 'at&t corp.', 'at&t services inc', 'att.net'),
  place('New York', 'New York', 'United States', '10001', 40.7506, -73.9972, '72.229', 12271, 'charter communications inc', 'spectrum', 'rr.com'),
  place('Austin', 'Texas', 'United States', '78701', 30.2713, -97.7426, '99.39', 7018, 'at&t corp.', 'at&t services inc', 'sbcglobal.net'),
  place('Ashburn', 'Virginia', 'United States', '20149', 39.0437, -77.4875, '54.86', 14618, 'amazon data services nova', 'amazon.com inc.', 'amazonaws.com'),
  place('Chicago', 'Illinois', 'United States', '60602', 41.8835, -87.6305, '98.215', 7922, 'comcast', 'comcast cable communications llc', 'comcast.net'),
  place('Seattle', 'Washington', 'United States', '98101', 47.6101, -122.3421, '73.225', 7922, 'comcast', 'comcast cable communications llc', 'comcast.net'),
  place('Toronto', 'Ontario', 'Canada', 'M5H', 43.6496, -79.3833, '142.114', 577, 'bell canada', 'bell canada', 'bell.ca'),
  place('London', 'England', 'United Kingdom', 'EC2V', 51.5151, -0.0921, '81.2', 2856, 'british telecommunications plc', 'bt public internet service', 'btcentralplus.com'),
  place('Dublin', 'Leinster', 'Ireland', 'D02', 53.3382, -6.2591, '86.40', 5466, 'eircom limited', 'eir broadband', 'eircom.net'),
  place('Paris', 'Ile-de-France', 'France', '75002', 48.8673, 2.3426, '90.3', 3215, 'orange s.a.', 'orange', 'orange.fr'),
  place('Berlin', 'Land Berlin', 'Germany', '10117', 52.5163, 13.3777, '91.64', 3320, 'deutsche telekom ag', 'deutsche telekom ag', 't-ipconnect.de'),
  place('Munich', 'Bavaria', 'Germany', '80331', 48.1374, 11.5755, '62.226', 62336, 'customer access', 'purtel.com gmbh', 'german-local.net'),
  place('Zurich', 'Zurich', 'Switzerland', '8001', 47.3769, 8.5417, '85.1', 3303, 'bluewin is an lir and isp in switzerland.', 'swisscom (schweiz) ag', 'swisscom.ch'),
  place('Lausanne', 'Vaud', 'Switzerland', '1003', 46.5197, 6.6323, '178.194', 39544, 'vo energies catv customers - region of oron/vd', 'vo energies multimedia sa', 'voenergies.net'),
  place('Madrid', 'Madrid', 'Spain', '28013', 40.4168, -3.7038, '83.45', 3352, 'telefonica de espana', 'telefonica de espana', 'rima-tde.net'),
  place('Stockholm', 'Stockholm', 'Sweden', '111 20', 59.3293, 18.0686, '81.229', 3301, 'telia company ab', 'telia company', 'telia.com'),
  place('Bengaluru', 'Karnataka', 'India', '560001', 12.9716, 77.5946, '49.207', 24560, 'bharti airtel ltd.', 'bharti airtel', 'airtelbroadband.in'),
  place('Tokyo', 'Tokyo', 'Japan', '100-0005', 35.6812, 139.7671, '126.227', 4713, 'ntt communications corporation', 'ntt', 'ocn.ne.jp'),
  place('Singapore', 'Central Singapore', 'Singapore', '018989', 1.2789, 103.8536, '118.200', 9506, 'singtel fibre broadband', 'singtel', 'singnet.com.sg'),
  place('Sydney', 'New South Wales', 'Australia', '2000', -33.8688, 151.2093, '110.174', 1221, 'telstra corporation', 'telstra internet', 'bigpond.net.au'),
  place('Sao Paulo', 'Sao Paulo', 'Brazil', '01310', -23.5613, -46.6565, '177.69', 28573, 'claro nxt telecomunicacoes ltda', 'claro', 'virtua.com.br'),
  place('Lagos', 'Lagos', 'Nigeria', '100001', 6.4541, 3.3947, '105.112', 29465, 'mtn nigeria', 'mtn nigeria communication limited', 'mtnnigeria.net'),
  place('Frankfurt am Main', 'Hesse', 'Germany', '60313', 50.1109, 8.6821, '185.220', 205100, 'f3 netze e.v.', 'f3 netze e.v.', 'f3netze.de'),
];

/** Places only unusual sign-ins come from: anonymizing hosting, far from any employee. */
export const SUSPICIOUS_PLACES: readonly Place[] = [
  place('Amsterdam', 'North Holland', 'Netherlands', '1012', 52.3676, 4.9041, '185.107', 60729, 'zwiebelfreunde e.v.', 'stiftung erneuerbare freiheit', 'torservers.net'),
  place('Bucharest', 'Bucuresti', 'Romania', '030167', 44.4268, 26.1025, '45.153', 201011, 'netzbetrieb gmbh', 'core-backbone gmbh', 'core-backbone.com'),
];

const BROWSERS: readonly UserAgent[] = [
  agent('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Mac OS X', 'CHROME', 'Computer'),
  agent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67', 'Windows 10', 'EDGE_CHROMIUM', 'Computer'),
  agent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36', 'Windows 10', 'CHROME', 'Computer'),
  agent('Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0', 'Mac OS X', 'FIREFOX', 'Computer'),
  agent('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15', 'Mac OS X', 'SAFARI', 'Computer'),
  agent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Linux', 'CHROME', 'Computer'),
  agent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1', 'iOS', 'MOBILE_SAFARI', 'Mobile'),
  agent('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36', 'Android 14', 'CHROME', 'Mobile'),
  agent('OktaVerify/9.18.0 (iPhone; iOS 17.4.1; Scale/3.00) Darwin/23.4.0', 'iOS', 'UNKNOWN', 'Mobile'),
];

const API_CLIENTS: readonly UserAgent[] = [
  agent('okta-sdk-python/2.9.5 python/3.11.8 Linux/5.15.0-1057-aws', 'Linux', 'UNKNOWN', 'Unknown'),
  agent('okta-sdk-java/16.0.0 java/17.0.10 Linux/6.1.79', 'Linux', 'UNKNOWN', 'Unknown'),
  agent('Terraform/1.7.5 (+https://www.terraform.io) Terraform-Plugin-SDK/2.33.0 terraform-provider-okta/4.8.0', 'Unknown', 'UNKNOWN', 'Unknown'),
  agent('UNKNOWN-DOWNLOAD', 'Unknown', 'UNKNOWN', 'Unknown'),
];

const APPS: readonly [string, string, App['signOnMode']][] = [
  ['salesforce', 'Salesforce.com', 'SAML_2_0'],
  ['slack', 'Slack', 'SAML_2_0'],
  ['google', 'Google Workspace', 'SAML_2_0'],
  ['github_enterprise_cloud', 'GitHub Enterprise Cloud', 'SAML_2_0'],
  ['zoomus', 'Zoom', 'SAML_2_0'],
  ['amazon_aws', 'AWS Account Federation', 'SAML_2_0'],
  ['atlassian', 'Atlassian Cloud', 'SAML_2_0'],
  ['workday', 'Workday', 'SAML_2_0'],
  ['office365', 'Microsoft Office 365', 'OPENID_CONNECT'],
  ['oidc_client', 'Internal Expenses Portal', 'OPENID_CONNECT'],
  ['bookmark', 'Benefits Handbook', 'BOOKMARK'],
  ['template_swa', 'Legacy Payroll', 'AUTO_LOGIN'],
];

const GROUPS = ['Everyone', 'Engineering', 'Sales', 'Finance', 'People Ops', 'Contractors', 'IT Admins', 'Security', 'AWS Production Access', 'GitHub Maintainers'];

const POLICIES: readonly [string, string][] = [
  ['Default Policy', 'Default Rule'],
  ['Employees Sign-On', 'Require MFA off network'],
  ['Contractors Sign-On', 'Require MFA every time'],
  ['Admin Console', 'Phishing-resistant MFA'],
];

export function createOrgDirectory(random: Random): OrgDirectory {
  const users: Person[] = [];
  for (const first of FIRST_NAMES) {
    for (let i = 0; i < 8; i++) {
      const last = random.pick(LAST_NAMES);
      const login = `${first.toLowerCase()}.${last.toLowerCase()}${i === 0 ? '' : String(i)}@${EMAIL_DOMAIN}`;
      users.push({ id: `00u${random.base62(17)}`, login, displayName: `${first} ${last}`, home: random.pick(PLACES), browser: random.pick(BROWSERS) });
    }
  }
  const admins = users.slice(0, 6);
  return {
    users,
    admins,
    apps: APPS.map(([name, label, signOnMode]) => ({ id: `0oa${random.base62(17)}`, name, label, signOnMode })),
    groups: GROUPS.map((name) => ({ id: `00g${random.base62(17)}`, name })),
    policies: POLICIES.map(([name, ruleName]) => ({ id: `00p${random.base62(17)}`, ruleId: `0pr${random.base62(17)}`, name, ruleName })),
    places: PLACES,
    browsers: BROWSERS,
    apiClients: API_CLIENTS,
    automationTokenId: `00T${random.base62(17)}`,
    system: { id: '0oa1okta0system0principal', type: 'SystemPrincipal', alternateId: 'system@okta.com', displayName: 'Okta System', detailEntry: null },
  };
}

function place(city: string, state: string, country: string, postalCode: string, lat: number, lon: number, ipPrefix: string, asNumber: number, asOrg: string, isp: string, domain: string): Place {
  return { geo: { city, state, country, postalCode, geolocation: { lat, lon } }, ipPrefix, asNumber, asOrg, isp, domain };
}

function agent(rawUserAgent: string, os: string, browser: string, device: UserAgent['device']): UserAgent {
  return { rawUserAgent, os, browser, device };
}
