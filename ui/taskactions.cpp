#include "taskactions.h"

#include "acknowledgealertdialog.h"
#include "futurecallback.h"
#include "submissionstore.h"
#include "taskengine.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <memory>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

/// The default confirmation: a window-modal question, answered asynchronously.
void confirmWithMessageBox(QWidget *parent, const QString &title, const QString &text, std::function<void(bool)> answer)
{
    auto *box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::Yes | QMessageBox::No, parent);
    box->setDefaultButton(QMessageBox::No);
    box->setAttribute(Qt::WA_DeleteOnClose);
    QObject::connect(box, &QMessageBox::finished, box, [box, answer = std::move(answer)] {
        answer(box->clickedButton() == box->button(QMessageBox::Yes));
    });
    box->open();
}

/// The default review input: name (prefilled) and note; OK only with a name.
void askReviewWithDialog(QWidget *parent, ReviewDecision decision, int count, const QString &suggestedName,
                         std::function<void(std::optional<ReviewInput>)> answer)
{
    auto *dialog = new QDialog(parent);
    dialog->setObjectName(u"reviewInputDialog"_s);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(decision == ReviewDecision::Rejected ? QObject::tr("Reject submissions")
                                                                : QObject::tr("Mark submissions reviewed"));
    auto *name = new QLineEdit(suggestedName, dialog);
    name->setObjectName(u"reviewerNameEdit"_s);
    name->setMaxLength(ReviewService::MaxNameLength);
    auto *note = new QPlainTextEdit(dialog);
    note->setObjectName(u"reviewNoteEdit"_s);
    note->setTabChangesFocus(true);
    note->setPlaceholderText(decision == ReviewDecision::Rejected ? QObject::tr("Why, e.g. \"wrong patient ID\"")
                                                                  : QObject::tr("Optional"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
    auto *form = new QFormLayout;
    form->addRow(QObject::tr("Coordinator &name:"), name);
    form->addRow(QObject::tr("N&ote:"), note);
    auto *layout = new QVBoxLayout(dialog);
    layout->addWidget(new QLabel(QObject::tr("%n submission(s)", nullptr, count), dialog));
    layout->addLayout(form);
    layout->addWidget(buttons);
    QPushButton *ok = buttons->button(QDialogButtonBox::Ok);
    ok->setEnabled(!suggestedName.trimmed().isEmpty());
    QObject::connect(name, &QLineEdit::textChanged, ok,
                     [ok](const QString &text) { ok->setEnabled(!text.trimmed().isEmpty()); });
    QObject::connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    QObject::connect(dialog, &QDialog::finished, dialog, [name, note, answer = std::move(answer)](int result) {
        if (result == QDialog::Accepted)
            answer(ReviewInput{name->text().trimmed(), note->toPlainText().trimmed()});
        else
            answer(std::nullopt);
    });
    dialog->open();
}

QStringList idsOf(const QList<SelectedTask> &tasks)
{
    QStringList ids;
    for (const SelectedTask &task : tasks)
        ids.append(task.submissionId);
    return ids;
}

} // namespace

TaskActions::TaskActions(SubmissionStore &store, TaskEngine *engine, SelectionProvider selection, QWidget *dialogParent,
                         QObject *parent)
    : QObject(parent)
    , m_engine(engine)
    , m_queue(store)
    , m_review(store)
    , m_selection(std::move(selection))
    , m_dialogParent(dialogParent)
{
    m_retry = new QAction(tr("&Retry now"), this);
    m_retry->setObjectName(u"retryTaskAction"_s);
    m_retry->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_retry->setToolTip(tr("Start the selected failed, timed-out, cancelled or retrying tasks again now (Ctrl+R)"));
    connect(m_retry, &QAction::triggered, this, &TaskActions::retry);

    m_cancel = new QAction(tr("&Cancel"), this);
    m_cancel->setObjectName(u"cancelTaskAction"_s);
    m_cancel->setShortcut(QKeySequence::Delete);
    m_cancel->setToolTip(tr("Stop processing the selected tasks; an attempt in progress ends at once (Del)"));
    connect(m_cancel, &QAction::triggered, this, &TaskActions::cancel);

    m_markReviewed = new QAction(tr("Mark &reviewed"), this);
    m_markReviewed->setObjectName(u"markReviewedAction"_s);
    m_markReviewed->setToolTip(tr("Record that you checked the selected processed submissions"));
    connect(m_markReviewed, &QAction::triggered, this, &TaskActions::markReviewed);

    m_reject = new QAction(tr("Re&ject…"), this);
    m_reject->setObjectName(u"rejectSubmissionAction"_s);
    m_reject->setToolTip(tr("Keep the selected submissions out of export, e.g. for a wrong patient ID"));
    connect(m_reject, &QAction::triggered, this, &TaskActions::reject);

    m_confirm = [this](const QString &title, const QString &text, std::function<void(bool)> answer) {
        confirmWithMessageBox(m_dialogParent, title, text, std::move(answer));
    };
    m_askReview = [this](ReviewDecision decision, int count, const QString &suggestedName,
                         std::function<void(std::optional<ReviewInput>)> answer) {
        askReviewWithDialog(m_dialogParent, decision, count, suggestedName, std::move(answer));
    };
    m_showError = [this](const QString &title, const QString &text) {
        auto *box = new QMessageBox(QMessageBox::Critical, title, text, QMessageBox::Ok, m_dialogParent);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    };
    updateEnabled();
}

TaskActions::~TaskActions() = default;

QList<QAction *> TaskActions::actions() const
{
    return {m_retry, m_cancel, m_markReviewed, m_reject};
}

bool TaskActions::canRetry(const SelectedTask &task)
{
    return task.state == "failed"_L1 || task.state == "timed_out"_L1 || task.state == "cancelled"_L1 ||
           task.state == "retrying"_L1;
}

bool TaskActions::canCancel(const SelectedTask &task, bool engineRunning)
{
    // Without the engine nothing is in flight, and TaskQueue cancels only waiting tasks.
    return task.state == "pending"_L1 || task.state == "retrying"_L1 ||
           (engineRunning && task.state == "processing"_L1);
}

bool TaskActions::canMarkReviewed(const SelectedTask &task)
{
    return task.state == "processed"_L1 && task.reviewState != "reviewed"_L1;
}

bool TaskActions::canReject(const SelectedTask &task)
{
    return task.reviewState != "rejected"_L1;
}

QList<SelectedTask> TaskActions::applicable(const std::function<bool(const SelectedTask &)> &rule) const
{
    QList<SelectedTask> tasks;
    if (!m_selection)
        return tasks;
    const QList<SelectedTask> selected = m_selection();
    for (const SelectedTask &task : selected) {
        if (rule(task))
            tasks.append(task);
    }
    return tasks;
}

void TaskActions::updateEnabled()
{
    const bool engine = m_engine != nullptr;
    if (m_running > 0) {
        // One action at a time: a second click would only race the first and report conflicts.
        for (QAction *action : actions())
            action->setEnabled(false);
        return;
    }
    m_retry->setEnabled(!applicable(&TaskActions::canRetry).isEmpty());
    m_cancel->setEnabled(!applicable([engine](const SelectedTask &task) { return canCancel(task, engine); }).isEmpty());
    m_markReviewed->setEnabled(!applicable(&TaskActions::canMarkReviewed).isEmpty());
    m_reject->setEnabled(!applicable(&TaskActions::canReject).isEmpty());
}

template <typename T>
void TaskActions::runForEach(const QString &what, const QStringList &ids,
                             const std::function<QFuture<Expected<T>>(const QString &)> &start)
{
    if (ids.isEmpty())
        return;
    struct Progress
    {
        qsizetype outstanding = 0;
        QStringList failures;
    };
    auto progress = std::make_shared<Progress>();
    progress->outstanding = ids.size();
    ++m_running;
    updateEnabled();
    for (const QString &id : ids) {
        whenFinished(start(id), this, [this, what, id, progress](const Expected<T> &result) {
            if (!result)
                progress->failures.append(u"%1: %2"_s.arg(id, result.error().message));
            if (--progress->outstanding == 0)
                finish(what, progress->failures);
        });
    }
}

void TaskActions::finish(const QString &what, const QStringList &failures)
{
    --m_running;
    if (!failures.isEmpty() && m_showError)
        m_showError(tr("%1 failed").arg(what), failures.join(u'\n'));
    updateEnabled();
    Q_EMIT actionCompleted();
}

void TaskActions::retry()
{
    if (m_running > 0)
        return;
    const QStringList ids = idsOf(applicable(&TaskActions::canRetry));
    const QString actor = AcknowledgeAlertDialog::dashboardActor();
    runForEach<Done>(tr("Retry"), ids, [this, actor](const QString &id) {
        return m_engine ? m_engine->requeue(id, actor) : m_queue.requeue(id, actor);
    });
}

void TaskActions::cancel()
{
    if (m_running > 0)
        return;
    const bool engine = m_engine != nullptr;
    const QStringList ids = idsOf(applicable([engine](const SelectedTask &task) { return canCancel(task, engine); }));
    if (ids.isEmpty())
        return;
    const QString text =
        ids.size() == 1
            ? tr("Cancel processing of submission %1? An attempt in progress ends at once.").arg(ids.constFirst())
            : tr("Cancel processing of %1 submissions? Attempts in progress end at once.").arg(ids.size());
    m_confirm(tr("Cancel tasks"), text, [this, ids, engine](bool confirmed) {
        if (!confirmed)
            return;
        const QString actor = AcknowledgeAlertDialog::dashboardActor();
        runForEach<TaskState>(tr("Cancel"), ids, [this, actor, engine](const QString &id) {
            return engine && m_engine ? m_engine->cancel(id, actor) : m_queue.cancelWaiting(id, actor);
        });
    });
}

void TaskActions::markReviewed()
{
    if (m_running > 0)
        return;
    const QStringList ids = idsOf(applicable(&TaskActions::canMarkReviewed));
    if (ids.isEmpty())
        return;
    const QString remembered = AcknowledgeAlertDialog::rememberedCoordinatorName();
    if (!remembered.isEmpty()) {
        review(ReviewDecision::Reviewed, ids, ReviewInput{remembered, QString()});
        return;
    }
    m_askReview(ReviewDecision::Reviewed, int(ids.size()), QString(), [this, ids](std::optional<ReviewInput> input) {
        if (input)
            review(ReviewDecision::Reviewed, ids, *input);
    });
}

void TaskActions::reject()
{
    if (m_running > 0)
        return;
    const QStringList ids = idsOf(applicable(&TaskActions::canReject));
    if (ids.isEmpty())
        return;
    const QString text =
        ids.size() == 1
            ? tr("Reject submission %1? It will not be exported to the trial platform.").arg(ids.constFirst())
            : tr("Reject %1 submissions? They will not be exported to the trial platform.").arg(ids.size());
    m_confirm(tr("Reject submissions"), text, [this, ids](bool confirmed) {
        if (!confirmed)
            return;
        m_askReview(ReviewDecision::Rejected, int(ids.size()), AcknowledgeAlertDialog::rememberedCoordinatorName(),
                    [this, ids](std::optional<ReviewInput> input) {
                        if (input)
                            review(ReviewDecision::Rejected, ids, *input);
                    });
    });
}

void TaskActions::review(ReviewDecision decision, const QStringList &ids, const ReviewInput &input)
{
    if (input.by.trimmed().isEmpty())
        return;
    AcknowledgeAlertDialog::rememberCoordinatorName(input.by);
    const QString actor = AcknowledgeAlertDialog::dashboardActor();
    runForEach<ReviewOutcome>(decision == ReviewDecision::Rejected ? tr("Reject") : tr("Mark reviewed"), ids,
                              [this, decision, input, actor](const QString &id) {
                                  return m_review.review(id, decision, input.by, input.note, actor);
                              });
}

} // namespace SiteRelay
