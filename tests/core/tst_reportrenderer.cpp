#include "questionnairecatalog.h"
#include "questionnairescorer.h"
#include "reportrenderer.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFuture>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>
#include <QtConcurrent>

#include <atomic>
#include <optional>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

namespace {

const QString alertHeading = u"Safety alert — requires coordinator review"_s;

/// {"<prefix>_q1": values[0], "<prefix>_q2": values[1], ...}
QJsonObject answersFor(const QString &questionnaireId, const QList<int> &values)
{
    QJsonObject answers;
    for (qsizetype i = 0; i < values.size(); ++i)
        answers.insert(questionnaireId + u"_q"_s + QString::number(i + 1), values.at(i));
    return answers;
}

QByteArray sha256Hex(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

/// Runs a poppler tool and returns its standard output, or nullopt (with a warning) on failure.
std::optional<QString> runTool(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForFinished(30000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        qWarning() << program << arguments << "failed:" << process.readAllStandardError();
        return std::nullopt;
    }
    return QString::fromUtf8(process.readAllStandardOutput());
}

/// For looking at the layout: SITERELAY_KEEP_REPORTS=/some/dir keeps a copy of each sample render.
void keepCopy(const QString &path, const QString &name)
{
    if (!qEnvironmentVariableIsSet("SITERELAY_KEEP_REPORTS"))
        return;
    const QString copy =
        QDir(qEnvironmentVariable("SITERELAY_KEEP_REPORTS")).filePath(QString(name).replace(u' ', u'_') + u".pdf"_s);
    QFile::remove(copy);
    if (!QFile::copy(path, copy))
        qWarning() << "could not keep a copy at" << copy;
}

/// Every entry of @p dir, hidden ones (QSaveFile's temporary files) included.
QStringList entries(const QString &dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
}

} // namespace

class TstReportRenderer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void rendersOnePageSummary_data();
    void rendersOnePageSummary();
    void longQuestionnaireShrinksToOnePage();
    void cancellationAtEveryPollWritesNothing();
    void replacesExistingReportAtomically();
    void failsWhenFolderCannotBeCreated();
    void concurrentRendersAllSucceed();
    void reportPathLayout_data();
    void reportPathLayout();

private:
    ReportInput input(const QString &questionnaireId, const QList<int> &values,
                      const QString &patientId = u"PAT-0042"_s) const;
    /// pdfinfo's page count of @p path, or -1.
    int pageCount(const QString &path) const;
    /// pdftotext's text of @p path with all whitespace runs made single spaces, so wrapped
    /// lines compare as the original sentences.
    QString pdfText(const QString &path) const;

    QuestionnaireCatalog m_catalog;
    QString m_pdfinfo;
    QString m_pdftotext;
    QTemporaryDir m_dir;
};

void TstReportRenderer::initTestCase()
{
    QVERIFY(m_dir.isValid());
    auto catalog = QuestionnaireCatalog::loadBuiltIn();
    QVERIFY2(catalog, qPrintable(catalog ? QString() : catalog.error().message));
    m_catalog = std::move(catalog).value();
    QVERIFY(m_catalog.find(u"phq9"_s));
    QVERIFY(m_catalog.find(u"gad7"_s));

    // poppler-utils is installed by scripts/install-deps.sh --test; a missing tool is a broken
    // test machine, not a reason to skip the page and text checks.
    m_pdfinfo = QStandardPaths::findExecutable(u"pdfinfo"_s);
    m_pdftotext = QStandardPaths::findExecutable(u"pdftotext"_s);
    QVERIFY2(!m_pdfinfo.isEmpty() && !m_pdftotext.isEmpty(),
             "pdfinfo/pdftotext not found: run scripts/install-deps.sh --test (poppler-utils)");
}

ReportInput TstReportRenderer::input(const QString &questionnaireId, const QList<int> &values,
                                     const QString &patientId) const
{
    ReportInput in;
    in.submissionId = u"3f2c9a1e-8d4b-4c7e-9f10-2b6d5e8a7c31"_s;
    in.patientId = patientId;
    in.trialId = u"TRIAL-DEP-301"_s;
    in.deviceName = u"Tablet 3 (waiting room)"_s;
    in.completedAt = u"2024-05-06T09:41:12.250Z"_s;
    in.receivedAt = u"2024-05-06T09:41:13.004Z"_s;
    in.siteName = u"Site 014 — Riverside Clinic"_s;
    in.generatedAt = u"2024-05-06T09:41:14.000Z"_s;
    const Questionnaire *q = m_catalog.find(questionnaireId);
    if (!q)
        return in;
    in.questionnaire = *q;
    in.answers = answersFor(questionnaireId, values);
    auto score = QuestionnaireScorer::score(*q, in.answers);
    if (score)
        in.score = score.value();
    else
        qWarning() << "test answers do not score:" << score.error().message;
    return in;
}

int TstReportRenderer::pageCount(const QString &path) const
{
    const auto info = runTool(m_pdfinfo, {path});
    if (!info)
        return -1;
    const auto match = QRegularExpression(u"^Pages:\\s+(\\d+)$"_s, QRegularExpression::MultilineOption).match(*info);
    return match.hasMatch() ? match.captured(1).toInt() : -1;
}

QString TstReportRenderer::pdfText(const QString &path) const
{
    return runTool(m_pdftotext, {u"-enc"_s, u"UTF-8"_s, path, u"-"_s}).value_or(QString()).simplified();
}

void TstReportRenderer::rendersOnePageSummary_data()
{
    QTest::addColumn<QString>("questionnaireId");
    QTest::addColumn<QList<int>>("values");
    QTest::addColumn<bool>("expectAlert");

    QTest::addRow("phq9 minimal, no alert") << u"phq9"_s << QList<int>{0, 1, 0, 0, 1, 0, 0, 0, 0, 0} << false;
    QTest::addRow("phq9 moderate, item 9 alert") << u"phq9"_s << QList<int>{2, 1, 1, 2, 1, 1, 2, 1, 1, 1} << true;
    QTest::addRow("phq9 severe, every item maximal") << u"phq9"_s << QList<int>{3, 3, 3, 3, 3, 3, 3, 3, 3, 3} << true;
    QTest::addRow("phq9 without optional item 10") << u"phq9"_s << QList<int>{1, 1, 1, 1, 1, 1, 1, 1, 0} << false;
    QTest::addRow("gad7 mild") << u"gad7"_s << QList<int>{1, 1, 1, 0, 2, 1, 0, 1} << false;
    QTest::addRow("gad7 severe") << u"gad7"_s << QList<int>{3, 3, 3, 3, 3, 3, 3, 3} << false;
}

void TstReportRenderer::rendersOnePageSummary()
{
    QFETCH(QString, questionnaireId);
    QFETCH(QList<int>, values);
    QFETCH(bool, expectAlert);

    const ReportInput in = input(questionnaireId, values);
    QVERIFY(!in.score.bandLabel.isEmpty());
    QCOMPARE(!in.score.alerts.isEmpty(), expectAlert);
    const QString path = m_dir.filePath(u"summary/"_s + QString::fromUtf8(QTest::currentDataTag()) + u".pdf"_s);

    QElapsedTimer timer;
    timer.start();
    const auto rendered = ReportRenderer::render(in, path);
    const qint64 elapsedMs = timer.elapsed();
    QVERIFY2(rendered, qPrintable(rendered ? QString() : rendered.error().message));
    qInfo("rendered %s in %lld ms (%lld bytes)", QTest::currentDataTag(), elapsedMs, rendered->bytes);

    QCOMPARE(rendered->path, path);
    const QByteArray bytes = readAll(path);
    QVERIFY(bytes.startsWith("%PDF-"));
    QCOMPARE(rendered->bytes, bytes.size());
    QCOMPARE(rendered->sha256Hex, sha256Hex(bytes));
    QCOMPARE(pageCount(path), 1);

    keepCopy(path, QString::fromUtf8(QTest::currentDataTag()));

    const QString text = pdfText(path);
    QVERIFY2(text.contains(in.patientId), qPrintable(text));
    QVERIFY(text.contains(in.trialId));
    QVERIFY(text.contains(in.submissionId));
    QVERIFY(text.contains(u"2024-05-06 09:41:12 UTC"_s)); // completed at
    QVERIFY(text.contains(u"2024-05-06 09:41:13 UTC"_s)); // received at
    QVERIFY(text.contains(in.questionnaire.title));
    QVERIFY(text.contains(u"SiteRelay ePRO summary"_s));
    QVERIFY(text.contains(in.score.bandLabel));
    QVERIFY(text.contains(QString::number(in.score.total) + u" / "_s + QString::number(in.score.maxTotal)));
    QVERIFY(text.contains(in.questionnaire.instructions));
    QVERIFY(text.contains(u"Page 1 of 1"_s));
    for (const QuestionnaireItem &item : in.questionnaire.items)
        QVERIFY2(text.contains(item.text.simplified()), qPrintable(u"missing item text: "_s + item.text));
    QCOMPARE(text.contains(alertHeading), expectAlert);
    for (const AlertRule &rule : in.questionnaire.alerts)
        QCOMPARE(text.contains(rule.message.simplified()), expectAlert);
}

void TstReportRenderer::longQuestionnaireShrinksToOnePage()
{
    // A hand-built definition three times the length of PHQ-9: the renderer must shrink the type
    // rather than spill onto a second page or clip the last items.
    ReportInput in = input(u"phq9"_s, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    for (int i = 11; i <= 28; ++i) {
        QuestionnaireItem item = in.questionnaire.items.at(0);
        item.id = u"extra_q"_s + QString::number(i);
        item.text = u"Extra item %1: how often have you noticed changes in your mood, sleep or appetite that "
                    u"made ordinary daily activities harder than usual"_s.arg(i);
        in.questionnaire.items.append(item);
        in.answers.insert(item.id, 2);
    }
    const QString path = m_dir.filePath(u"long/report.pdf"_s);
    const auto rendered = ReportRenderer::render(in, path);
    QVERIFY2(rendered, qPrintable(rendered ? QString() : rendered.error().message));
    keepCopy(path, u"long questionnaire"_s);
    QCOMPARE(pageCount(path), 1);
    const QString text = pdfText(path);
    QVERIFY(text.contains(in.questionnaire.items.constLast().text));
    QVERIFY(text.contains(u"Page 1 of 1"_s));
    QVERIFY(text.contains(in.questionnaire.copyright));
}

void TstReportRenderer::cancellationAtEveryPollWritesNothing()
{
    const ReportInput in = input(u"phq9"_s, {1, 1, 2, 1, 0, 1, 1, 0, 1, 0});

    // Count the polls of an uncancelled render, then cancel at each one in turn: before layout,
    // after item rows, before the file is opened and before commit.
    int polls = 0;
    const QString reference = m_dir.filePath(u"cancel-reference/r.pdf"_s);
    QVERIFY(ReportRenderer::render(in, reference, [&polls] {
        ++polls;
        return false;
    }));
    QVERIFY2(polls >= 4, qPrintable(QString::number(polls)));

    for (int cancelAt = 1; cancelAt <= polls; ++cancelAt) {
        const QString folder = m_dir.filePath(u"cancel-"_s + QString::number(cancelAt));
        int seen = 0;
        const auto result =
            ReportRenderer::render(in, folder + u"/r.pdf"_s, [&seen, cancelAt] { return ++seen >= cancelAt; });
        QVERIFY2(!result, qPrintable(u"not cancelled at poll "_s + QString::number(cancelAt)));
        QCOMPARE(result.error().code, ErrorCode::Internal);
        QCOMPARE(result.error().reason, u"cancelled"_s);
        QCOMPARE(seen, cancelAt); // stops at the first true poll
        // The folder may exist (created before the last polls) but must hold nothing.
        QVERIFY2(entries(folder).isEmpty(), qPrintable(entries(folder).join(u", "_s)));
    }
}

void TstReportRenderer::replacesExistingReportAtomically()
{
    const QString folder = m_dir.filePath(u"replace"_s);
    const QString path = folder + u"/report.pdf"_s;
    QVERIFY(QDir().mkpath(folder));
    {
        QFile old(path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        QVERIFY(old.write("old report") > 0);
    }

    // A cancelled re-render just before commit leaves the old file exactly as it was.
    int polls = 0;
    const ReportInput first = input(u"gad7"_s, {0, 0, 1, 0, 0, 0, 0, 0});
    QVERIFY(ReportRenderer::render(first, m_dir.filePath(u"replace-count.pdf"_s), [&polls] {
        ++polls;
        return false;
    }));
    int seen = 0;
    const auto cancelled = ReportRenderer::render(first, path, [&seen, polls] { return ++seen >= polls; });
    QVERIFY(!cancelled);
    QCOMPARE(readAll(path), QByteArray("old report"));
    QCOMPARE(entries(folder), QStringList{u"report.pdf"_s});

    // Two renders in a row: each replaces the whole file, no temporary file stays behind.
    for (const QString &patient : {u"PAT-FIRST"_s, u"PAT-SECOND"_s}) {
        const auto rendered = ReportRenderer::render(input(u"gad7"_s, {0, 0, 1, 0, 0, 0, 0, 0}, patient), path);
        QVERIFY2(rendered, qPrintable(rendered ? QString() : rendered.error().message));
        const QByteArray bytes = readAll(path);
        QVERIFY(bytes.startsWith("%PDF-"));
        QCOMPARE(rendered->sha256Hex, sha256Hex(bytes));
        QCOMPARE(entries(folder), QStringList{u"report.pdf"_s});
        QVERIFY(pdfText(path).contains(patient));
    }
}

void TstReportRenderer::failsWhenFolderCannotBeCreated()
{
    // A regular file where the parent folder should be: mkpath cannot succeed, as on a
    // read-only or broken data folder.
    const QString blocker = m_dir.filePath(u"blocker"_s);
    {
        QFile file(blocker);
        QVERIFY(file.open(QIODevice::WriteOnly));
    }
    const auto result =
        ReportRenderer::render(input(u"phq9"_s, {0, 0, 0, 0, 0, 0, 0, 0, 0}), blocker + u"/2024/05/r.pdf"_s);
    QVERIFY(!result);
    QCOMPARE(result.error().code, ErrorCode::StorageUnavailable);
    QCOMPARE(result.error().reason, u"write_failed"_s);
    QVERIFY(result.error().message.contains(u"blocker"_s));
}

void TstReportRenderer::concurrentRendersAllSucceed()
{
    constexpr int renders = 4;
    QThreadPool pool;
    pool.setMaxThreadCount(renders);
    std::atomic<int> started{0};
    QList<QFuture<Expected<RenderedReport>>> futures;
    for (int i = 0; i < renders; ++i) {
        const ReportInput in = input(i % 2 ? u"gad7"_s : u"phq9"_s,
                                     i % 2 ? QList<int>{i, 1, 1, 1, 1, 1, 1, 1} : QList<int>{i, 1, 1, 1, 1, 1, 1, 1, 1},
                                     u"PAT-THREAD-"_s + QString::number(i));
        const QString path = m_dir.filePath(u"concurrent/"_s + QString::number(i) + u".pdf"_s);
        futures.append(QtConcurrent::run(&pool, [in, path, &started] {
            ++started;
            return ReportRenderer::render(in, path);
        }));
    }
    for (const auto &future : futures)
        QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), 60000);
    QCOMPARE(started.load(), renders);

    for (int i = 0; i < renders; ++i) {
        const Expected<RenderedReport> result = futures.at(i).result();
        QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
        QCOMPARE(result->sha256Hex, sha256Hex(readAll(result->path)));
        QCOMPARE(pageCount(result->path), 1);
        QVERIFY(pdfText(result->path).contains(u"PAT-THREAD-"_s + QString::number(i)));
    }
}

void TstReportRenderer::reportPathLayout_data()
{
    QTest::addColumn<QString>("submissionId");
    QTest::addColumn<QString>("receivedAt");
    QTest::addColumn<QString>("expected");

    const QString id = u"3f2c9a1e-8d4b-4c7e-9f10-2b6d5e8a7c31"_s;
    QTest::addRow("utc") << id << u"2024-05-06T09:41:13.004Z"_s << u"reports/2024/05/"_s + id + u".pdf"_s;
    QTest::addRow("year end") << id << u"2023-12-31T23:59:59.999Z"_s << u"reports/2023/12/"_s + id + u".pdf"_s;
    QTest::addRow("offset crosses month in utc")
        << id << u"2024-03-01T00:30:00.000+02:00"_s << u"reports/2024/02/"_s + id + u".pdf"_s;
    QTest::addRow("unparseable time") << id << u"yesterday"_s << u"reports/undated/"_s + id + u".pdf"_s;
    QTest::addRow("path characters neutralised")
        << u"../../etc/x"_s << u"2024-05-06T09:41:13.004Z"_s << u"reports/2024/05/.._.._etc_x.pdf"_s;
}

void TstReportRenderer::reportPathLayout()
{
    QFETCH(QString, submissionId);
    QFETCH(QString, receivedAt);
    QFETCH(QString, expected);

    const QString dataDir = u"/var/lib/siterelay"_s;
    QCOMPARE(ReportRenderer::reportPath(dataDir, submissionId, receivedAt), dataDir + u'/' + expected);
}

QTEST_MAIN(TstReportRenderer)
#include "tst_reportrenderer.moc"
