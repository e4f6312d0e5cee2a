//! The demo's staff accounts: one officer per agency, a manager and an administrator, with
//! passwords generated for this run only (printed once, never stored in clear).

use lienthong_engine::runtime::Runtime;
use lienthong_engine::store::{Store, User};
use lienthong_server::http::auth::hash_password;

/// One account as printed: `role=… user=… password=… [agency=…]`.
#[derive(Debug, Clone)]
pub struct Account {
    pub role: &'static str,
    pub user: String,
    pub password: String,
    pub agency: Option<String>,
}

impl Account {
    pub fn line(&self) -> String {
        let mut s = format!(
            "role={} user={} password={}",
            self.role, self.user, self.password
        );
        if let Some(a) = &self.agency {
            s.push_str(&format!(" agency={a}"));
        }
        s
    }
}

fn password() -> anyhow::Result<String> {
    let mut b = [0u8; 9];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex::encode(b))
}

/// Creates the accounts (nationwide) in the demo's store.
pub async fn create<S: Store>(rt: &Runtime<S>, agencies: &[&str]) -> anyhow::Result<Vec<Account>> {
    let mut out = Vec::new();
    let mut wanted: Vec<(&'static str, String, Option<String>)> = agencies
        .iter()
        .map(|a| {
            (
                "agency_officer",
                format!("officer.{a}"),
                Some((*a).to_string()),
            )
        })
        .collect();
    wanted.push(("manager", "manager".into(), None));
    wanted.push(("admin", "admin".into(), None));
    for (role, user, agency) in wanted {
        let password = password()?;
        let phc = hash_password(&password).map_err(anyhow::Error::msg)?;
        let u = User {
            name: user.clone(),
            password_hash: phc,
            role: role.to_string(),
            agency: agency.clone(),
            province: None,
            commune: None,
            created_at: rt.now(),
            disabled_at: None,
        };
        if !rt.store().insert_user(&u).await? {
            anyhow::bail!("the demo account {user} exists already in this database");
        }
        out.push(Account {
            role,
            user,
            password,
            agency,
        });
    }
    Ok(out)
}
