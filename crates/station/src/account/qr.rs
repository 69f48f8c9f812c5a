//! The QR code of a TOTP enrolment URL, as modules for the UI to draw (an SVG of squares):
//! no image bytes cross IPC and nothing remote is loaded.

use qrcode::{Color, EcLevel, QrCode as Code};

use super::QrCode;
use crate::StationError;

/// The modules of `text`'s QR code (error correction M, as authenticator apps expect).
pub fn qr_code(text: &str) -> Result<QrCode, StationError> {
    if text.len() > 1024 {
        return Err(StationError::InvalidRequest(
            "a QR code is made of at most 1024 bytes of text".into(),
        ));
    }
    let code = Code::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| StationError::InvalidRequest(format!("no QR code for this text: {e}")))?;
    let size = u32::try_from(code.width()).unwrap_or(0);
    Ok(QrCode {
        size,
        modules: code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_otpauth_url_makes_a_square_code() {
        let qr = qr_code("otpauth://totp/Review%20Station:ana?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Review%20Station").unwrap();
        assert!(
            qr.size >= 21 && (qr.size - 17).is_multiple_of(4),
            "a QR version's width: {}",
            qr.size
        );
        assert_eq!(qr.modules.len() as u32, qr.size * qr.size);
        // the three finder patterns' corners are dark
        assert!(qr.modules[0] && qr.modules[(qr.size - 1) as usize]);
        assert!(qr_code(&"x".repeat(2000)).is_err());
    }
}
