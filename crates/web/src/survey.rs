//! The campus needs survey in the browser: campaigns, the answer form of
//! member employers, and the results with small-cell suppression.

use crate::extract::Form;
use crate::extract::Path;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use app::rows::{AnswerRow, CampaignRow, CampusRow, MemberRow};
use app::survey::SurveyResults;
use app::{App, AppError};
use domain::network::FieldError;
use domain::survey::AnswerInput;

use crate::auth::{Nav, RequestActor};
use crate::error::WebError;
use crate::forms::Fields;
use crate::pages::{render, Params};
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/campus/{slug}/enquetes", list)
        .post("/campus/{slug}/enquetes", create)
        .get("/campus/{slug}/enquetes/{id}", results)
        .get("/campus/{slug}/enquetes/{id}/resultats.csv", export)
        .get("/campus/{slug}/enquetes/{id}/reponse", answer_form)
        .post("/campus/{slug}/enquetes/{id}/reponse", answer_save)
}

#[derive(Template)]
#[template(path = "survey/campaigns.html")]
struct ListPage {
    nav: Nav,
    campus: CampusRow,
    campaigns: Vec<CampaignRow>,
    manageable: bool,
    form: Fields,
}

async fn list_page(
    app: &App,
    actor: &app::Actor,
    nav: Nav,
    slug: &str,
    form: Fields,
) -> Result<ListPage, WebError> {
    let campaigns = app.campaigns(actor, slug).await?;
    let campus = app.campus(slug).await?;
    let manageable =
        app::policy::allows(actor, app::Action::Manage, app::Resource::Campus(campus.id));
    Ok(ListPage {
        nav,
        campus,
        campaigns,
        manageable,
        form,
    })
}

async fn list(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    render(
        &list_page(&app, &actor, nav, &slug, Fields::default()).await?,
        true,
    )
}

async fn create(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
    Form(values): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = Fields::from_pairs(values);
    match app
        .create_campaign(
            &actor,
            &slug,
            form.value("titre"),
            form.value("ouverture"),
            form.value("cloture"),
        )
        .await
    {
        Ok(id) => Ok(crate::redirect::see_other(&format!(
            "/campus/{slug}/enquetes/{id}"
        ))),
        Err(AppError::Invalid(errors)) => {
            let page = list_page(&app, &actor, nav, &slug, Fields { errors, ..form }).await?;
            let mut res = render(&page, true)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "survey/campaign.html")]
struct ResultsPage {
    nav: Nav,
    campus: CampusRow,
    r: SurveyResults,
}

fn id_of(raw: &str) -> Result<i64, WebError> {
    raw.parse()
        .map_err(|_| WebError::page(AppError::NotFound(format!("campagne {raw}"))))
}

async fn results(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let r = app.survey_results(&actor, &slug, id_of(&id)?).await?;
    let campus = app.campus(&slug).await?;
    render(&ResultsPage { nav, campus, r }, true)
}

async fn export(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let bytes = app.survey_export(&actor, &slug, id_of(&id)?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"enquete-{slug}-{id}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "survey/answer.html")]
struct AnswerPage {
    nav: Nav,
    campus: CampusRow,
    campaign: CampaignRow,
    respondents: Vec<MemberRow>,
    member: Option<MemberRow>,
    answers: Vec<AnswerRow>,
    form: Fields,
    saved: bool,
}

impl AnswerPage {
    fn is_number(&self, kind: &str) -> bool {
        kind == "number"
    }
}

#[allow(clippy::too_many_arguments)]
async fn answer_page(
    app: &App,
    actor: &app::Actor,
    nav: Nav,
    slug: &str,
    id: i64,
    member_id: Option<i64>,
    form: Fields,
    saved: bool,
) -> Result<AnswerPage, WebError> {
    let respondents = app.survey_respondents(actor, slug, id).await?;
    let campus = app.campus(slug).await?;
    let campaign = app.answerable_campaign(actor, slug, id).await?;
    let member = match member_id.or_else(|| (respondents.len() == 1).then(|| respondents[0].id)) {
        Some(m) => respondents.iter().find(|r| r.id == m).cloned(),
        None => None,
    };
    let answers = match &member {
        Some(m) => app.member_answers(actor, slug, id, m.id).await?,
        None => Vec::new(),
    };
    Ok(AnswerPage {
        nav,
        campus,
        campaign,
        respondents,
        member,
        answers,
        form,
        saved,
    })
}

async fn answer_form(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path((slug, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = Params::parse(raw);
    let member = p.one("membre").and_then(|m| m.parse().ok());
    let saved = p.one("enregistre").is_some();
    let page = answer_page(
        &app,
        &actor,
        nav,
        &slug,
        id_of(&id)?,
        member,
        Fields::default(),
        saved,
    )
    .await?;
    render(&page, true)
}

fn count(form: &Fields, name: &str, errors: &mut Vec<FieldError>) -> i64 {
    let v = form.value(name).trim();
    if v.is_empty() {
        return 0;
    }
    v.parse().unwrap_or_else(|_| {
        errors.push(FieldError::new(
            name,
            format!("Nombre entier attendu, « {v} » saisi."),
        ));
        0
    })
}

async fn answer_save(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path((slug, id)): Path<(String, String)>,
    Form(values): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = id_of(&id)?;
    let form = Fields::from_pairs(values);
    let mut errors = Vec::new();
    let member_id: i64 = form.value("membre").parse().unwrap_or(0);
    let answer = AnswerInput {
        code_rome: form.value("code_rome").trim().to_uppercase(),
        code_insee: Some(form.value("code_insee").trim().to_owned()).filter(|c| !c.is_empty()),
        planned: count(&form, "recrutements", &mut errors),
        difficult: count(&form, "difficiles", &mut errors),
        seasonal: count(&form, "saisonniers", &mut errors),
        apprentices: count(&form, "apprentis", &mut errors),
        tutors: count(&form, "tuteurs", &mut errors),
        comment: Some(form.value("commentaire").trim().to_owned()).filter(|c| !c.is_empty()),
    };
    let result = if errors.is_empty() {
        app.answer_survey(&actor, &slug, id, member_id, &answer)
            .await
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(crate::redirect::see_other(&format!(
            "/campus/{slug}/enquetes/{id}/reponse?membre={member_id}&enregistre=1"
        ))),
        Err(AppError::Invalid(errors)) => {
            let page = answer_page(
                &app,
                &actor,
                nav,
                &slug,
                id,
                Some(member_id),
                Fields { errors, ..form },
                false,
            )
            .await?;
            let mut res = render(&page, true)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}
