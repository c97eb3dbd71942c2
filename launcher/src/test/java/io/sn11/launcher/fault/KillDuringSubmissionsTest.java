package io.sn11.launcher.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sn11.coordinator.http.ApiNode;
import io.sn11.coordinator.http.ApiNode.Model;
import io.sn11.launcher.fault.ClusterProcesses.Journal;
import io.sn11.launcher.fault.ClusterProcesses.Node;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A 200 from POST /check_model means the submission is on disk: {@code sn11 serve} in its own JVM takes
 * concurrent submissions of distinct models, is killed with SIGKILL while requests are in flight, and
 * starts again on the same data; every submission that was answered 200 must be in the journal.
 */
@Tag("fault")
@Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class KillDuringSubmissionsTest {
  private static final int CLIENTS = 8;
  /** Accepted submissions before the kill: a sustained load, with requests at every stage when it strikes. */
  private static final int ACCEPTED_BEFORE_KILL = 400;
  private static final Duration LOAD = Duration.ofMinutes(3);

  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(Journal.class)
  void everySubmissionAnswered200IsThereAfterKill9AndRestart(Journal journal) throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(tmp)) {
      Node node = cluster.serve("serve", journal, "sn11.coordinator.submissions.open = true\n").start();
      ApiNode api = node.api();
      Queue<Model> accepted = new ConcurrentLinkedQueue<>();
      Map<Integer, AtomicInteger> answers = new ConcurrentHashMap<>();
      AtomicInteger cutOff = new AtomicInteger();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      for (int client = 0; client < CLIENTS; client++) {
        int id = client;
        clients.execute(() -> submitUntilTheNodeIsGone(api, id, accepted, answers, cutOff));
      }
      ApiNode.await("submissions answered 200", LOAD, accepted::size, n -> n >= ACCEPTED_BEFORE_KILL);
      node.kill();
      clients.shutdown();
      // Every client ends on its first request that the dead node leaves unanswered.
      ApiNode.await("the clients to see the node gone", Duration.ofMinutes(1), () -> clients.awaitTermination(1, TimeUnit.SECONDS), ended -> ended);

      node.start();
      List<String> missing = new ArrayList<>();
      for (Model model : accepted) {
        ApiNode.Answer events = api.get("/models/" + model.hash() + "/events");
        if (events.status() != 200) missing.add(model.name() + " (" + events.status() + ")");
        else assertEquals("Submitted", events.body().at("/events/0/type").asText(), () -> model.name() + ": " + events.raw());
      }
      String database = journal == Journal.H2 ? "H2" : "PostgreSQL (" + cluster.commitSettings() + ")";
      System.out.printf(
          "DURABILITY kill -9 of sn11 serve on %s under %d clients: %d answered 200, %d found after the restart (%d requests cut off by the kill; answers by status %s)%n",
          database, CLIENTS, accepted.size(), accepted.size() - missing.size(), cutOff.get(), answers);
      assertEquals(List.of(), missing, () -> missing.size() + " of " + accepted.size() + " submissions answered 200 are gone after the restart");
    }
  }

  /** Submits distinct models one after another until a request goes unanswered: cut off by the kill, or refused after it. */
  private static void submitUntilTheNodeIsGone(
      ApiNode api, int client, Queue<Model> accepted, Map<Integer, AtomicInteger> answers, AtomicInteger cutOffByTheKill) {
    for (int i = 0; ; i++) {
      Model model = ApiNode.model("durability", "client-" + client + "-model-" + i, ApiNode.hotkey("durability-" + client + "-" + i), 1_000);
      try {
        ApiNode.Answer answer = api.post("/check_model", model.json());
        answers.computeIfAbsent(answer.status(), status -> new AtomicInteger()).incrementAndGet();
        if (answer.status() == 200) accepted.add(model);
      } catch (ConnectException afterTheKill) {
        return;
      } catch (IOException cutOff) {
        cutOffByTheKill.incrementAndGet();
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
