//! The HTTP-interactions endpoint (`POST /discord/interactions`): Ed25519 verification, PING,
//! and answering within Discord's 3 s, deferring and editing the answer in when it takes longer.

use super::*;

impl DiscordBot {
    /// The HTTP-interactions endpoint (`POST /discord/interactions`); `None` in gateway mode.
    pub fn interactions_router(&self) -> Option<Router> {
        (self.inner.settings.mode == DiscordMode::Http).then(|| {
            Router::new()
                .route(INTERACTIONS_PATH, post(interactions))
                .with_state(self.clone())
        })
    }
}

/// `POST /discord/interactions`: verifies Discord's Ed25519 signature (401 otherwise), answers
/// PING, and answers within 3 s, deferring when the work takes longer.
pub(super) async fn interactions(
    State(bot): State<DiscordBot>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(verifier) = &bot.inner.verifier else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let sig = headers
        .get("x-signature-ed25519")
        .and_then(|v| v.to_str().ok());
    let ts = headers
        .get("x-signature-timestamp")
        .and_then(|v| v.to_str().ok());
    let verified = match (sig, ts) {
        (Some(sig), Some(ts)) => verifier.verify(sig, ts, &body).is_ok(),
        _ => false,
    };
    if !verified {
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "undecodable interaction");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let token = ids(&interaction).map(|(_, t)| t);
    let Ok(permit) = bot.inner.slots.clone().acquire_owned().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let mut worker = {
        let (bot, interaction) = (bot.clone(), interaction.clone());
        bot.inner.tasks.clone().spawn(async move {
            let plan = bot.plan(&interaction).await;
            drop(permit);
            plan
        })
    };
    let plan = tokio::select! {
        res = &mut worker => res.ok().flatten(),
        _ = tokio::time::sleep(DEFER_AFTER) => {
            // Too slow for Discord's 3 s: acknowledge now, edit the answer in when it is ready.
            let deferred = match &interaction {
                Interaction::Component(_) => CreateInteractionResponse::Acknowledge,
                _ => CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new()),
            };
            if let Some(token) = token {
                let late = bot.clone();
                let component = matches!(interaction, Interaction::Component(_));
                bot.inner.tasks.spawn(async move {
                    let Ok(Some(plan)) = worker.await else { return };
                    let mut rest = plan.rest;
                    if let Some(first) = plan.first_message {
                        if component {
                            rest.insert(0, first);
                        } else {
                            let edit = edit_message(&first, &late.rows(&first));
                            if let Err(e) = late
                                .inner
                                .http
                                .edit_original_interaction_response(&token, &edit, vec![])
                                .await
                            {
                                tracing::warn!(error = %redact(&e.to_string()), "deferred reply failed");
                                return;
                            }
                        }
                    }
                    late.follow_up(&token, rest).await;
                });
            }
            return json_response(&deferred);
        }
    };
    let Some(plan) = plan else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if let Some(token) = token
        && !plan.rest.is_empty()
    {
        let late = bot.clone();
        let rest = plan.rest;
        bot.inner.tasks.spawn(async move {
            // Follow-ups need the first answer to have reached Discord: it is this response.
            tokio::time::sleep(Duration::from_millis(50)).await;
            late.follow_up(&token, rest).await;
        });
    }
    json_response(&plan.first)
}

pub(super) fn json_response(r: &CreateInteractionResponse) -> Response {
    match serde_json::to_vec(r) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

pub(super) fn hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
