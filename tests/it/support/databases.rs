//! The PostgreSQL databases the tests and benches make for themselves on the test server
//! (`CAREPROMPT_TEST_POSTGRES_URL`), and only those: each is marked as it is made (a comment on
//! the database), and a database is dropped only if it carries that mark, so a database the tests
//! did not make is never dropped or written, whatever its name and wherever the URL points. The
//! database the URL names is only connected to, to make and drop the others.
#![allow(dead_code)]

use sqlx::{Connection, PgConnection};

/// The comment on a database the tests made.
const MARK: &str = "made by the careprompt tests or benches, which drop it";

/// Makes the database `name`, marked as the tests'. A leftover of an earlier run (a test that
/// was killed) is dropped first if it carries the mark; a database of that name without it is
/// left alone, and this fails.
pub async fn create_marked(admin: &mut PgConnection, name: &str) -> Result<(), String> {
    drop_marked(admin, name).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut *admin)
        .await
        .map_err(|err| format!("creating the test database {name}: {err}"))?;
    if let Err(err) = sqlx::query(&format!("COMMENT ON DATABASE {name} IS '{MARK}'"))
        .execute(&mut *admin)
        .await
    {
        // Made just now, so ours to drop, mark or no mark.
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut *admin)
            .await;
        return Err(format!("marking the test database {name}: {err}"));
    }
    Ok(())
}

/// Drops the database `name` if it is there and the tests made it; fails, dropping nothing, if
/// it is there without the mark.
pub async fn drop_marked(admin: &mut PgConnection, name: &str) -> Result<(), String> {
    let found: Option<Option<String>> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_optional(&mut *admin)
    .await
    .map_err(|err| format!("looking for the database {name}: {err}"))?;
    match found {
        None => Ok(()),
        Some(Some(mark)) if mark == MARK => {
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *admin)
                .await
                .map(|_| ())
                .map_err(|err| format!("dropping the test database {name}: {err}"))
        }
        Some(_) => Err(format!(
            "a database named {name} is on the test server, and the tests did not make it: \
             they leave it alone; drop or rename it, or point CAREPROMPT_TEST_POSTGRES_URL at \
             another server"
        )),
    }
}

/// Connects to `base` and drops `name` if the tests made it, for clean-ups that must not fail.
pub async fn drop_marked_at(base: &str, name: &str) {
    match PgConnection::connect(base).await {
        Ok(mut admin) => {
            if let Err(err) = drop_marked(&mut admin, name).await {
                eprintln!("{err}");
            }
            let _ = admin.close().await;
        }
        Err(err) => eprintln!("could not drop the test database {name}: {err}"),
    }
}
