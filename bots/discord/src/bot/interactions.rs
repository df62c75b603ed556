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
            let deferred = deferred_response(&interaction);
            if let Some(token) = token {
                let late = bot.clone();
                let component = matches!(interaction, Interaction::Component(_));
                bot.inner.tasks.spawn(async move {
                    let Ok(Some(plan)) = worker.await else { return };
                    late.answer_late(&token, component, plan).await;
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

/// What acknowledges an interaction whose answer comes later: a button's "deferred update"
/// (the message stays, its buttons change later), a command's "thinking…".
pub(super) fn deferred_response(interaction: &Interaction) -> CreateInteractionResponse {
    match interaction {
        Interaction::Component(_) => CreateInteractionResponse::Acknowledge,
        _ => CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new()),
    }
}

impl DiscordBot {
    /// The answer to an interaction acknowledged with `deferred_response`: a command's first
    /// message edited into the "thinking…" one, a button's new buttons edited into its message
    /// (a button's new message follows instead), then the follow-ups.
    pub(super) async fn answer_late(&self, token: &str, component: bool, plan: Plan) {
        let mut rest = plan.rest;
        let edit = match (component, plan.first_message, plan.new_rows) {
            (true, _, Some(rows)) => Some(EditInteractionResponse::new().components(rows)),
            (true, Some(first), None) => {
                rest.insert(0, first);
                None
            }
            (false, Some(first), _) => Some(edit_message(&first, &self.rows(&first))),
            _ => None,
        };
        if let Some(edit) = edit
            && let Err(e) = self
                .inner
                .http
                .edit_original_interaction_response(token, &edit, vec![])
                .await
        {
            tracing::warn!(error = %redact(&e.to_string()), "deferred reply failed");
            return;
        }
        self.follow_up(token, rest).await;
    }
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
