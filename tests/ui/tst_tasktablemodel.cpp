#include "dashboardreader.h"
#include "dashboardtestkit.h"
#include "tasktablemodel.h"
#include "testserver.h"

#include <QAbstractItemModelTester>
#include <QItemSelectionModel>
#include <QSet>
#include <QSignalSpy>
#include <QTest>

#include <functional>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;
using namespace SiteRelay::Test;

namespace {

constexpr int longWaitMs = 20000; // a loaded 2-core CI machine

/// Whether (a.value, a.rowId) comes before (b.value, b.rowId) in ascending order.
bool keyLess(const TaskKey &a, const TaskKey &b)
{
    if (a.value != b.value) {
        if (a.value.typeId() == QMetaType::QString || b.value.typeId() == QMetaType::QString)
            return a.value.toString() < b.value.toString();
        return a.value.toLongLong() < b.value.toLongLong();
    }
    return a.rowId < b.rowId;
}

} // namespace

class TestTaskTableModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();
    void firstPageThenFetchMore();
    void sortedPagesAreOrderedAndComplete_data();
    void sortedPagesAreOrderedAndComplete();
    void filtersAndSearch_data();
    void filtersAndSearch();
    void newRowsOverHttpKeepSelection();
    void stateChangeWhileSortedByStateMovesRowWithSelection();
    void refreshKeepsTheLoadedWindowSize();

private:
    /// A server with a fresh database, devices "Tablet A" and "Tablet B" and a reader on it.
    struct Fixture
    {
        std::unique_ptr<TestServer> server;
        std::unique_ptr<DashboardReader> reader;
        qint64 deviceA = 0;
        qint64 deviceB = 0;
        QStringList ids;
    };
    static std::unique_ptr<Fixture> makeFixture();
    /// Fills the store with @p count submissions: patients P-A…, devices "Tablet A"/"Tablet B", scores 0–3.
    static void fill(Fixture &fixture, int count);
    /// Sets every @p step-th submission from the first to @p stateFor(index); waits for the commits.
    static void setStates(Fixture &fixture, int step, const std::function<QString(int)> &stateFor);
    static void fetchAll(TaskTableModel &model);

    std::unique_ptr<Fixture> m_fixture;       ///< per test
    std::unique_ptr<Fixture> m_sortFixture;   ///< 300 rows, shared by the data-driven sort cases
    std::unique_ptr<Fixture> m_filterFixture; ///< 60 rows, shared by the data-driven filter cases
};

std::unique_ptr<TestTaskTableModel::Fixture> TestTaskTableModel::makeFixture()
{
    auto fixture = std::make_unique<Fixture>();
    // NORMAL: these tests are about reading, not durability; it keeps a loaded CI machine fast.
    fixture->server = std::make_unique<TestServer>(QHash<QString, QString>{{u"storage/synchronous"_s, u"NORMAL"_s}});
    if (!fixture->server->isRunning())
        return nullptr;
    fixture->deviceA = fixture->server->addDevice(u"Tablet A"_s).first;
    fixture->deviceB = fixture->server->addDevice(u"Tablet B"_s).first;
    fixture->reader = std::make_unique<DashboardReader>(fixture->server->databasePath());
    return fixture;
}

void TestTaskTableModel::initTestCase()
{
    m_sortFixture = makeFixture();
    QVERIFY(m_sortFixture);
    fill(*m_sortFixture, 300);
    // Some states, scores and alerts so the non-trivial sort keys differ between rows.
    setStates(*m_sortFixture, 7, [](int i) { return i % 2 ? u"failed"_s : u"processed"_s; });
    m_filterFixture = makeFixture();
    QVERIFY(m_filterFixture);
    fill(*m_filterFixture, 60);
    setStates(*m_filterFixture, 10, [](int) { return u"failed"_s; });
}

void TestTaskTableModel::cleanupTestCase()
{
    m_sortFixture.reset();
    m_filterFixture.reset();
}

void TestTaskTableModel::init()
{
    // Tests that change data get a fresh database; the data-driven read-only ones share theirs.
    if (QByteArray(QTest::currentTestFunction()) != "sortedPagesAreOrderedAndComplete" &&
        QByteArray(QTest::currentTestFunction()) != "filtersAndSearch") {
        m_fixture = makeFixture();
        QVERIFY(m_fixture);
    }
}

void TestTaskTableModel::cleanup()
{
    m_fixture.reset();
}

void TestTaskTableModel::fill(Fixture &fixture, int count)
{
    QList<NewSubmission> submissions;
    for (int i = 0; i < count; ++i) {
        const QString patient = i % 3 == 0 ? u"P-A%1"_s.arg(i % 7) : u"P-B%1"_s.arg(i % 5);
        submissions.append(phq9Submission(i % 2 ? fixture.deviceA : fixture.deviceB, patient, i % 4));
        fixture.ids.append(submissions.last().submissionId);
    }
    auto last = appendAll(fixture.server->host().store(), submissions);
    QTRY_VERIFY_WITH_TIMEOUT(last.isFinished(), longWaitMs);
    QVERIFY(last.result().hasValue());
}

void TestTaskTableModel::setStates(Fixture &fixture, int step, const std::function<QString(int)> &stateFor)
{
    QFuture<Expected<Done>> last;
    for (int i = 0; i < fixture.ids.size(); i += step)
        last = setState(fixture.server->host().store(), fixture.ids.at(i), stateFor(i));
    QTRY_VERIFY_WITH_TIMEOUT(last.isFinished(), longWaitMs);
    QVERIFY(last.result().hasValue());
}

void TestTaskTableModel::fetchAll(TaskTableModel &model)
{
    QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy(), longWaitMs);
    while (model.canFetchMore({})) {
        const int before = model.rowCount();
        model.fetchMore({});
        QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy(), longWaitMs);
        QVERIFY(model.rowCount() > before);
    }
}

void TestTaskTableModel::firstPageThenFetchMore()
{
    fill(*m_fixture, 5000);
    TaskTableModel model(*m_fixture->reader, &m_fixture->server->host().catalog());
    // The constructor asks for the first page only (no tester yet: it would fetch more itself).
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 200, longWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy(), longWaitMs);
    QCOMPARE(model.rowCount(), 200);
    QVERIFY(model.canFetchMore({}));
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy(), longWaitMs);
    const int before = model.rowCount();
    model.fetchMore({});
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), before + 200, longWaitMs);
    fetchAll(model);
    QCOMPARE(model.rowCount(), 5000);
    QVERIFY(!model.canFetchMore({}));
    // Newest first, each submission once.
    QSet<QString> seen;
    for (int row = 0; row < model.rowCount(); ++row) {
        seen.insert(model.rowAt(row).submissionId);
        if (row > 0)
            QVERIFY(model.rowAt(row - 1).rowId > model.rowAt(row).rowId);
    }
    QCOMPARE(seen.size(), 5000);
    QCOMPARE(model.rowAt(0).submissionId, m_fixture->ids.last());
}

void TestTaskTableModel::sortedPagesAreOrderedAndComplete_data()
{
    QTest::addColumn<int>("column");
    QTest::addColumn<bool>("descending");
    for (int column = 0; column < taskColumnCount; ++column) {
        QTest::addRow("column %d ascending", column) << column << false;
        QTest::addRow("column %d descending", column) << column << true;
    }
}

void TestTaskTableModel::sortedPagesAreOrderedAndComplete()
{
    QFETCH(int, column);
    QFETCH(bool, descending);
    TaskTableModel model(*m_sortFixture->reader, &m_sortFixture->server->host().catalog());
    model.setPageSize(64);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.sort(column, descending ? Qt::DescendingOrder : Qt::AscendingOrder);
    fetchAll(model);
    QCOMPARE(model.rowCount(), 300);
    QSet<qint64> seen;
    for (int row = 0; row < model.rowCount(); ++row) {
        seen.insert(model.rowAt(row).rowId);
        if (row == 0)
            continue;
        const TaskKey &before = model.rowAt(row - 1).key;
        const TaskKey &current = model.rowAt(row).key;
        QVERIFY2(descending ? keyLess(current, before) : keyLess(before, current),
                 qPrintable(u"row %1 out of order"_s.arg(row)));
    }
    QCOMPARE(seen.size(), 300);
}

void TestTaskTableModel::filtersAndSearch_data()
{
    QTest::addColumn<QString>("state");
    QTest::addColumn<QString>("search");
    QTest::addColumn<int>("expected");
    // fill(60): patients P-A* for i % 3 == 0 (20 rows); device A for odd i (30 rows); failed: i % 10 == 0 (6 rows).
    QTest::addRow("all") << QString() << QString() << 60;
    QTest::addRow("failed only") << u"failed"_s << QString() << 6;
    QTest::addRow("pending only") << u"pending"_s << QString() << 54;
    QTest::addRow("nothing processed") << u"processed"_s << QString() << 0;
    QTest::addRow("patient prefix") << QString() << u"P-A"_s << 20;
    QTest::addRow("patient, any case") << QString() << u"p-a"_s << 20;
    QTest::addRow("device name") << QString() << u"Tablet A"_s << 30;
    QTest::addRow("failed and patient") << u"failed"_s << u"P-A"_s << 2;
    QTest::addRow("no match") << QString() << u"nobody"_s << 0;
    QTest::addRow("wildcards are literal") << QString() << u"%"_s << 0;
}

void TestTaskTableModel::filtersAndSearch()
{
    QFETCH(QString, state);
    QFETCH(QString, search);
    QFETCH(int, expected);
    TaskTableModel model(*m_filterFixture->reader, &m_filterFixture->server->host().catalog());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStateFilter(state);
    model.setSearchText(search);
    fetchAll(model);
    QCOMPARE(model.rowCount(), expected);
    for (int row = 0; row < model.rowCount(); ++row) {
        if (!state.isEmpty())
            QCOMPARE(model.rowAt(row).state, state);
    }
}

void TestTaskTableModel::newRowsOverHttpKeepSelection()
{
    fill(*m_fixture, 10);
    TestServer &server = *m_fixture->server;
    TaskTableModel model(*m_fixture->reader, &server.host().catalog());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QItemSelectionModel selection(&model);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 10, longWaitMs);
    const QString selectedId = model.rowAt(4).submissionId;
    selection.select(model.index(4, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);

    for (int i = 0; i < 3; ++i)
        QCOMPARE(postSubmission(server.port(), server.deviceToken(), phq9Body(u"P-NEW%1"_s.arg(i))), 202);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.refresh();
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 13, longWaitMs);
    QCOMPARE(model.rowAt(0).patientId, u"P-NEW2"_s);
    QCOMPARE(model.rowAt(2).patientId, u"P-NEW0"_s);
    // One insertion at the top, not a reset: the selection follows its row.
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(inserted.first().at(1).toInt(), 0);
    QCOMPARE(selection.selectedRows().size(), 1);
    QCOMPARE(selection.selectedRows().first().row(), 7);
    QCOMPARE(selection.selectedRows().first().data(TaskTableModel::SubmissionIdRole).toString(), selectedId);

    // A state change in place is a dataChanged of that row.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    auto done = setState(server.host().store(), selectedId, u"failed"_s);
    QTRY_VERIFY_WITH_TIMEOUT(done.isFinished(), longWaitMs);
    model.refresh();
    QTRY_COMPARE_WITH_TIMEOUT(model.rowAt(7).state, u"failed"_s, longWaitMs);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().row(), 7);
    QCOMPARE(model.index(7, int(TaskColumn::State)).data().toString(), u"Failed"_s);
}

void TestTaskTableModel::stateChangeWhileSortedByStateMovesRowWithSelection()
{
    fill(*m_fixture, 20);
    TestServer &server = *m_fixture->server;
    TaskTableModel model(*m_fixture->reader, &server.host().catalog());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QItemSelectionModel selection(&model);
    model.sort(int(TaskColumn::State), Qt::AscendingOrder);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 20, longWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy(), longWaitMs);
    const QString moved = model.rowAt(19).submissionId;
    selection.select(model.index(19, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
    // "failed" sorts before "pending": the row moves from the bottom to the top.
    auto done = setState(server.host().store(), moved, u"failed"_s);
    QTRY_VERIFY_WITH_TIMEOUT(done.isFinished(), longWaitMs);
    model.refresh();
    QTRY_COMPARE_WITH_TIMEOUT(model.rowAt(0).submissionId, moved, longWaitMs);
    QCOMPARE(model.rowCount(), 20);
    QCOMPARE(selection.selectedRows().size(), 1);
    QCOMPARE(selection.selectedRows().first().row(), 0);
}

void TestTaskTableModel::refreshKeepsTheLoadedWindowSize()
{
    fill(*m_fixture, 10);
    TestServer &server = *m_fixture->server;
    TaskTableModel model(*m_fixture->reader, &server.host().catalog());
    model.setPageSize(5);
    model.setStateFilter(u"pending"_s); // reload with the new page size
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 5, longWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy(), longWaitMs);
    // No model tester here: it calls fetchMore() itself, and this test is about what is loaded.
    const int loaded = model.rowCount();
    const QString lastBefore = model.rowAt(loaded - 1).submissionId;
    for (int i = 0; i < 2; ++i)
        QCOMPARE(postSubmission(server.port(), server.deviceToken(), phq9Body(u"P-TOP%1"_s.arg(i))), 202);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.refresh();
    QTRY_COMPARE_WITH_TIMEOUT(model.rowAt(0).patientId, u"P-TOP1"_s, longWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy(), longWaitMs);
    // A refresh re-reads as many rows as were loaded: two new at the top push two off the end,
    // which stay reachable through fetchMore.
    QCOMPARE(model.rowCount(), loaded);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(model.rowOf(lastBefore), -1);
    QVERIFY(model.canFetchMore({}));
    fetchAll(model);
    QCOMPARE(model.rowCount(), 12);
    QVERIFY(model.rowOf(lastBefore) >= 0);
}

QTEST_MAIN(TestTaskTableModel)
#include "tst_tasktablemodel.moc"
