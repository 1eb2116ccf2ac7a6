package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestTargetTest {
  @Test
  void originForm_isKept() {
    assertThat(RequestTarget.originForm("/chat?room=1")).isEqualTo("/chat?room=1");
    assertThat(RequestTarget.originForm("/")).isEqualTo("/");
  }

  @Test
  void absoluteForm_becomesOriginForm() {
    assertThat(RequestTarget.originForm("http://lb.example/chat?room=1")).isEqualTo("/chat?room=1");
    assertThat(RequestTarget.originForm("WSS://lb.example:8443/a/b")).isEqualTo("/a/b");
    assertThat(RequestTarget.originForm("http://lb.example")).isEqualTo("/");
    assertThat(RequestTarget.originForm("http://lb.example?x=1")).isEqualTo("/?x=1");
  }

  @Test
  void anythingElse_isRefused() {
    assertThat(RequestTarget.originForm("")).isNull();
    assertThat(RequestTarget.originForm("*")).isNull();
    assertThat(RequestTarget.originForm("chat")).isNull();
    assertThat(RequestTarget.originForm("ftp://lb.example/")).isNull();
    assertThat(RequestTarget.originForm("http:///path")).isNull();
    assertThat(RequestTarget.originForm("http://user@lb.example/")).isNull();
    assertThat(RequestTarget.originForm("/a b")).isNull();
    assertThat(RequestTarget.originForm("/\u00e9")).isNull();
  }

  @Test
  void ambiguousPaths_areRefused_queriesAreNotJudged() {
    assertThat(RequestTarget.originForm("/a%zz")).isNull();
    assertThat(RequestTarget.originForm("/a%e")).isNull();
    assertThat(RequestTarget.originForm("/a%ff")).as("not UTF-8").isNull();
    assertThat(RequestTarget.originForm("//x")).isNull();
    assertThat(RequestTarget.originForm("/;p/x")).isNull();
    assertThat(RequestTarget.originForm("/a/../b")).isNull();
    assertThat(RequestTarget.originForm("/a/%2E/b")).isNull();
    assertThat(RequestTarget.originForm("/a%20b/%C3%A9/?q=%zz")).isEqualTo("/a%20b/%C3%A9/?q=%zz");
    assertThat(RequestTarget.originForm("/a/")).isEqualTo("/a/");
    assertThat(RequestTarget.originForm("/a%09b")).as("encoded control").isNull();
    assertThat(RequestTarget.originForm("/a;p=%zz/b")).as("parameters not judged").isNotNull();
  }
}
