// QNetworkCredential: what the network storages use to wait for tokens,
// credentials and presigned requests from the app.

#include <qnetworkcredential_p.h>

#include <QtTest/qtest.h>

#include <memory>

using Credential = QNetworkCredential<QString>;

namespace {

struct Answers
{
    QStringList values;
    QList<QAttachmentError> errors;

    Credential::Answer waiter(const QString &name)
    {
        return [this, name](const QString &value, const QAttachmentError &error) {
            values << name + QLatin1Char('=') + value;
            errors << error;
        };
    }
};

} // namespace

class tst_NetworkCredential : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Requests that arrive while a fetch runs share it and are answered in order.
    void waitersShareOneFetch()
    {
        Credential credential;
        int fetches = 0;
        Credential::Answer pending;
        const Credential::Fetch fetch = [&](Credential::Answer answer) {
            ++fetches;
            pending = answer;
        };
        Answers answers;
        credential.wait(nullptr, answers.waiter(QStringLiteral("a")), fetch);
        credential.wait(nullptr, answers.waiter(QStringLiteral("b")), fetch);
        credential.wait(nullptr, answers.waiter(QStringLiteral("c")), fetch);
        QCOMPARE(fetches, 1);
        QVERIFY(credential.isFetching());
        QVERIFY(answers.values.isEmpty());
        pending(QStringLiteral("t1"), {});
        QCOMPARE(
            answers.values,
            QStringList({QStringLiteral("a=t1"), QStringLiteral("b=t1"), QStringLiteral("c=t1")}));
        QCOMPARE(credential.value(), QStringLiteral("t1"));
        QVERIFY(!credential.isFetching());
        // A second answer to the same fetch is ignored.
        pending(QStringLiteral("t2"), {});
        QCOMPARE(answers.values.size(), 3);
        QCOMPARE(credential.value(), QStringLiteral("t1"));
    }

    // An error reaches every waiter and keeps the last good value.
    void errorKeepsTheValue()
    {
        Credential credential;
        credential.setValue(QStringLiteral("old"));
        Answers answers;
        credential.wait(
            nullptr, answers.waiter(QStringLiteral("a")), [](Credential::Answer answer) {
                answer(QStringLiteral("ignored"),
                       QAttachmentError(QAttachmentError::NetworkError, QStringLiteral("down")));
            });
        QCOMPARE(answers.values, QStringList({QStringLiteral("a=")}));
        QCOMPARE(answers.errors.first().code(), QAttachmentError::NetworkError);
        QCOMPARE(credential.value(), QStringLiteral("old"));
    }

    // After abandon() the old fetch's answer is ignored; the waiters it
    // returned can be queued for a new one.
    void abandonedFetchIsIgnored()
    {
        Credential credential;
        QList<Credential::Answer> pending;
        const Credential::Fetch fetch = [&](Credential::Answer answer) { pending << answer; };
        Answers answers;
        credential.wait(nullptr, answers.waiter(QStringLiteral("a")), fetch);
        const auto waiters = credential.abandon();
        QCOMPARE(waiters.size(), 1);
        QVERIFY(!credential.isFetching());
        credential.requeue(waiters, fetch);
        QCOMPARE(pending.size(), 2);
        pending.first()(QStringLiteral("stale"), {});
        QVERIFY(answers.values.isEmpty());
        QVERIFY(credential.value().isEmpty());
        pending.last()(QStringLiteral("fresh"), {});
        QCOMPARE(answers.values, QStringList({QStringLiteral("a=fresh")}));
    }

    // A waiter whose context is gone is dropped; the others are answered.
    void waiterOfADeadContextIsDropped()
    {
        Credential credential;
        Credential::Answer pending;
        const Credential::Fetch fetch = [&](Credential::Answer answer) { pending = answer; };
        Answers answers;
        auto context = std::make_unique<QObject>();
        credential.wait(context.get(), answers.waiter(QStringLiteral("dead")), fetch);
        credential.wait(nullptr, answers.waiter(QStringLiteral("alive")), fetch);
        context.reset();
        pending(QStringLiteral("t"), {});
        QCOMPARE(answers.values, QStringList({QStringLiteral("alive=t")}));
    }

    // An app that never answers fails the waiters with Timeout; the next
    // request asks again, and the late answer is ignored.
    void silentFetchTimesOut()
    {
        Credential credential;
        credential.setTimeout(50, QStringLiteral("no answer within %1 ms"));
        QList<Credential::Answer> pending;
        const Credential::Fetch fetch = [&](Credential::Answer answer) { pending << answer; };
        Answers answers;
        credential.wait(nullptr, answers.waiter(QStringLiteral("a")), fetch);
        credential.wait(nullptr, answers.waiter(QStringLiteral("b")), fetch);
        QTRY_COMPARE_WITH_TIMEOUT(answers.values.size(), 2, 5000);
        QCOMPARE(answers.errors.at(0).code(), QAttachmentError::Timeout);
        QCOMPARE(answers.errors.at(1).code(), QAttachmentError::Timeout);
        QCOMPARE(answers.errors.at(0).message(), QStringLiteral("no answer within 50 ms"));
        QVERIFY(!credential.isFetching());
        pending.first()(QStringLiteral("late"), {});
        QCOMPARE(answers.values.size(), 2);
        QVERIFY(credential.value().isEmpty());
        credential.wait(nullptr, answers.waiter(QStringLiteral("c")), fetch);
        QCOMPARE(pending.size(), 2);
        pending.last()(QStringLiteral("t"), {});
        QCOMPARE(answers.values.last(), QStringLiteral("c=t"));
    }

    // The credential may go while the app still works on an answer.
    void answerAfterTheCredentialIsGone()
    {
        auto credential = std::make_unique<Credential>();
        Credential::Answer pending;
        Answers answers;
        credential->wait(nullptr, answers.waiter(QStringLiteral("a")),
                         [&](Credential::Answer answer) { pending = answer; });
        credential.reset();
        pending(QStringLiteral("t"), {});
        QVERIFY(answers.values.isEmpty());
    }
};

QTEST_MAIN(tst_NetworkCredential)
#include "tst_networkcredential.moc"
