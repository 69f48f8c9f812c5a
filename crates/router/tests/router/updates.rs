//! Station releases from the router's updates folder: offered only to older stations of the
//! platform and package kind, the package streamed as published, nothing else of the folder
//! served, and a broken manifest refused while the router goes on.

use base64::Engine as _;
use serde_json::{json, Value};

use super::{error_of, setup, Options};

const PACKAGE: &str = "Review Station_0.2.0_amd64.AppImage";

fn signature() -> String {
    base64::engine::general_purpose::STANDARD.encode(
        "untrusted comment: signature from tauri secret key\nRUQAAAAA\ntrusted comment: timestamp:1\tfile:x\tversion:0.2.0\nAAAA\n",
    )
}

#[tokio::test]
async fn a_published_release_is_offered_to_older_stations_and_its_package_served() {
    let s = setup(Options::default()).await;
    let folder = s._dir.path().join("updates");
    let offer = |path: &str| {
        s.http
            .get(format!("{}/station/v1/updates/{path}", s.base))
            .send()
    };

    // nothing published yet: no folder at all
    assert_eq!(
        offer("linux/x86_64/appimage/0.1.0").await.unwrap().status(),
        204
    );

    std::fs::create_dir_all(&folder).unwrap();
    // an AppImage-sized package, so the download is streamed, not one buffer
    let package: Vec<u8> = (0..5_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(folder.join(PACKAGE), &package).unwrap();
    std::fs::write(folder.join("notes.txt"), "not a package").unwrap();
    let manifest = json!({
        "version": "0.2.0",
        "notes": "Faster OCR on A4 pages",
        "pub_date": "2026-12-01T10:00:00Z",
        "platforms": {
            "linux-x86_64-appimage": {"url": PACKAGE, "signature": signature()},
            "linux-x86_64-deb": {"url": "https://downloads.example.org/review-station_0.2.0_amd64.deb", "signature": signature()},
        }
    });
    std::fs::write(folder.join("latest.json"), manifest.to_string()).unwrap();

    let response = offer("linux/x86_64/appimage/0.1.0").await.unwrap();
    assert_eq!(response.status(), 200);
    let offered: Value = response.json().await.unwrap();
    assert_eq!(offered["version"], "0.2.0");
    assert_eq!(offered["notes"], "Faster OCR on A4 pages");
    assert_eq!(offered["pub_date"], "2026-12-01T10:00:00Z");
    assert_eq!(offered["signature"], signature());
    let url = offered["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "{}/station/v1/updates/files/Review%20Station_0.2.0_amd64.AppImage",
            s.base
        )
    );
    let download = s.http.get(url).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.content_length(), Some(package.len() as u64));
    assert_eq!(download.bytes().await.unwrap().as_ref(), package.as_slice());

    // a .deb install gets the .deb, where it was published
    let deb: Value = offer("linux/x86_64/deb/0.1.0")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        deb["url"],
        "https://downloads.example.org/review-station_0.2.0_amd64.deb"
    );

    // nothing for a station as new or newer, or of another platform
    for path in [
        "linux/x86_64/appimage/0.2.0",
        "linux/x86_64/appimage/1.0.0",
        "windows/x86_64/msi/0.1.0",
        "linux/aarch64/appimage/0.1.0",
    ] {
        assert_eq!(offer(path).await.unwrap().status(), 204, "{path}");
    }
    let (status, _, body) = error_of(offer("linux/x86_64/appimage/banana").await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request"))
    );

    // only the release's packages leave the folder
    for name in [
        "latest.json",
        "notes.txt",
        "..%2Frouter.db",
        "..%2F..%2Frouter.db",
        "%2Fetc%2Fpasswd",
    ] {
        let response = s
            .http
            .get(format!("{}/station/v1/updates/files/{name}", s.base))
            .send()
            .await
            .unwrap();
        let (status, _, body) = error_of(response).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{name}"
        );
    }

    // a half-written manifest: refused with its reason, the router goes on
    std::fs::write(folder.join("latest.json"), &manifest.to_string()[..40]).unwrap();
    let (status, _, body) = error_of(offer("linux/x86_64/appimage/0.1.0").await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("latest.json is not valid"),
        "{body}"
    );
    let hello = s
        .http
        .get(format!("{}/station/v1/hello", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(hello.status(), 200);

    // published again (renamed into place): offered again
    std::fs::write(folder.join("latest.json.part"), manifest.to_string()).unwrap();
    std::fs::rename(folder.join("latest.json.part"), folder.join("latest.json")).unwrap();
    assert_eq!(
        offer("linux/x86_64/appimage/0.1.0").await.unwrap().status(),
        200
    );
}
