//! The squid test proxy itself: it demands credentials and accepts the right ones.

use e2e::squid::{ProxyAuth, Squid};

#[tokio::test]
async fn squid_requires_and_accepts_basic_credentials() {
    let squid = Squid::start(ProxyAuth::Basic);
    let target = e2e::Localstripe::start();
    let url = format!("{}/v1/customers", target.url());

    let anonymous = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(squid.url()).unwrap())
        .build()
        .unwrap();
    assert_eq!(anonymous.get(&url).send().await.unwrap().status(), 407);

    let authed = reqwest::Client::builder()
        .proxy(
            reqwest::Proxy::http(squid.url())
                .unwrap()
                .basic_auth(&squid.user, &squid.password),
        )
        .build()
        .unwrap();
    let response = authed
        .get(&url)
        .bearer_auth("sk_test_squid")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(squid.access_log().contains("/v1/customers"));
}
