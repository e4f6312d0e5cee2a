//! Who is calling. Systems present an API key (`Authorization: Bearer lt_<id>_<secret>`):
//! only its SHA-256 is stored, it is shown once, and it can be revoked. Staff sign in with
//! a password (argon2id) and get a short-lived session token — a JWT signed with HS256,
//! bound to this service by issuer and audience — in an `HttpOnly` cookie (or as a bearer
//! token). Anything else — no credentials, an unknown or revoked key, a disabled account,
//! an expired, forged, unsigned (`alg: none`) or foreign-audience token — is 401.

use argon2::password_hash::PasswordHasher;
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lienthong_engine::clock::Millis;
use lienthong_engine::runtime::{ApiKey, Scope};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The roles of the API. Each route names the roles it admits (`policy.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The national or provincial portal: submits dossiers and follows its own.
    Portal,
    /// An agency's system: works its agency's queue by API.
    AgencySystem,
    /// An agency's officer, signed in.
    AgencyOfficer,
    /// Publishes procedures, manages the calendar, resolves incidents.
    Admin,
    /// Watches figures (of a province, when scoped).
    Manager,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Portal,
        Role::AgencySystem,
        Role::AgencyOfficer,
        Role::Admin,
        Role::Manager,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Portal => "portal",
            Role::AgencySystem => "agency_system",
            Role::AgencyOfficer => "agency_officer",
            Role::Admin => "admin",
            Role::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role acts for one agency (and must name it).
    pub fn is_agency(self) -> bool {
        matches!(self, Role::AgencySystem | Role::AgencyOfficer)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// `key:<id>` for a system, `user:<name>` for staff.
    pub subject: String,
    pub role: Role,
    /// The agency role it acts for (agency roles only).
    pub agency: Option<String>,
    pub scope: Scope,
}

/// The printed form of a key: `lt_<id>_<secret>`.
pub const KEY_PREFIX: &str = "lt_";

/// A fresh key: (the printed key, its id, the SHA-256 of the key).
pub fn new_key() -> std::io::Result<(String, String, String)> {
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut id).map_err(std::io::Error::other)?;
    getrandom::fill(&mut secret).map_err(std::io::Error::other)?;
    let id = hex::encode(id);
    let key = format!("{KEY_PREFIX}{id}_{}", hex::encode(secret));
    let hash = key_hash(&key);
    Ok((key, id, hash))
}

/// SHA-256 of a presented key, hex (keys are 256-bit random: no slow hash is needed).
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The principal of a live key.
pub fn key_principal(k: &ApiKey) -> Option<Principal> {
    if k.revoked_at.is_some() {
        return None;
    }
    Some(Principal {
        subject: format!("key:{}", k.id),
        role: Role::parse(&k.role)?,
        agency: k.agency.clone(),
        scope: Scope {
            province: k.province.clone(),
            commune: k.commune.clone(),
        },
    })
}

/// argon2id PHC string of a password.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC string.
pub fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The issuer and audience of session tokens.
pub const ISSUER: &str = "lienthong";
pub const AUDIENCE: &str = "lienthong-api";
/// The session cookie's name.
pub const COOKIE: &str = "lienthong_session";

/// A session token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<String>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The session's id: signing out records it as ended.
    pub jti: String,
}

/// Signs and checks session tokens with one secret (the same on every node).
#[derive(Clone)]
pub struct Sessions {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Token lifetime in seconds.
    pub ttl_s: i64,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("secret", &"<redacted>")
            .field("ttl_s", &self.ttl_s)
            .finish()
    }
}

impl Sessions {
    pub fn new(secret: &[u8], ttl_s: i64) -> Self {
        Sessions {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl_s,
        }
    }

    /// Sessions signed with a fresh random secret: valid on this process only, until it
    /// stops (a single node without a configured secret; the demo).
    pub fn random(ttl_s: i64) -> std::io::Result<Self> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(std::io::Error::other)?;
        Ok(Sessions::new(&secret, ttl_s))
    }

    /// A token for `p`, valid from `now_ms` for the lifetime.
    pub fn issue(&self, p: &Principal, now_ms: Millis) -> Result<String, String> {
        let iat = now_ms / 1_000;
        let claims = Claims {
            sub: p.subject.clone(),
            role: p.role,
            agency: p.agency.clone(),
            province: p.scope.province.clone(),
            commune: p.scope.commune.clone(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat,
            exp: iat + self.ttl_s,
            jti: {
                let mut id = [0u8; 16];
                getrandom::fill(&mut id).map_err(|e| e.to_string())?;
                hex::encode(id)
            },
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    /// The principal of a valid token: HS256 only, our issuer and audience, not expired
    /// at `now_ms` (no leeway).
    pub fn check(&self, token: &str, now_ms: Millis) -> Option<Principal> {
        self.session(token, now_ms).map(|s| s.principal)
    }

    /// The session of a valid token (see [`Sessions::check`]): its principal, id and expiry.
    pub fn session(&self, token: &str, now_ms: Millis) -> Option<Session> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 0;
        // The library compares `exp` with the system clock; ours may be simulated.
        v.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v).ok()?;
        let c = data.claims;
        if c.exp <= now_ms / 1_000 || c.iat > now_ms / 1_000 + 60 {
            return None;
        }
        if c.jti.is_empty() {
            return None;
        }
        Some(Session {
            principal: Principal {
                subject: c.sub,
                role: c.role,
                agency: c.agency,
                scope: Scope {
                    province: c.province,
                    commune: c.commune,
                },
            },
            id: c.jti,
            until_ms: c.exp.saturating_mul(1_000),
        })
    }
}

/// A valid session token's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub principal: Principal,
    /// The token's `jti`.
    pub id: String,
    /// When it expires, in ms.
    pub until_ms: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer() -> Principal {
        Principal {
            subject: "user:an".into(),
            role: Role::AgencyOfficer,
            agency: Some("civil_status".into()),
            scope: Scope::default(),
        }
    }

    #[test]
    fn a_token_holds_until_it_expires() {
        let s = Sessions::new(b"0123456789abcdef0123456789abcdef", 900);
        let t = s.issue(&officer(), 1_000_000).expect("issued");
        assert_eq!(s.check(&t, 1_000_000), Some(officer()));
        assert_eq!(s.check(&t, 1_000_000 + 899_000), Some(officer()));
        assert_eq!(s.check(&t, 1_000_000 + 900_000), None);
        let other = Sessions::new(b"another secret of thirty-two b.", 900);
        assert_eq!(other.check(&t, 1_000_000), None);
    }

    #[test]
    fn passwords_and_keys() {
        let phc = hash_password("mật khẩu dài").expect("hashed");
        assert!(phc.starts_with("$argon2id$"));
        assert!(password_matches("mật khẩu dài", &phc));
        assert!(!password_matches("mat khau dai", &phc));
        let (key, id, hash) = new_key().expect("random");
        assert!(key.starts_with(&format!("lt_{id}_")));
        assert_eq!(key_hash(&key), hash);
        assert_ne!(new_key().expect("random").0, key);
    }
}
